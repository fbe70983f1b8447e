"""Text made safe for an XML 1.0 report (``--format junit`` and ``checkstyle``).

XML 1.0 cannot carry most control characters at all, not even as character
references: a report with an ESC or a NUL in a message is rejected by every
parser (Jenkins, GitLab, Azure DevOps). Those are written as visible escapes
(``escape.escape_controls``: ``\\x1b``, ``\\u202e``, a file name byte that is not
UTF-8 as ``\\xff``), as are U+FFFE and U+FFFF. ``&``, ``<``, ``>`` and ``"`` become
entities; in attributes tab, LF and CR become character references, so
attribute-value normalisation does not turn them into spaces. ``[`` after ``##``
is written ``&#91;`` (the same character once parsed), so a report printed to
a GitHub Actions log cannot start a workflow command.
"""

from __future__ import annotations

from .escape import escape_char, escape_controls

_ATTR = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _clean(text: str) -> str:
    text = escape_controls(text)
    if "\ufffe" in text or "\uffff" in text:
        text = text.replace("\ufffe", escape_char("\ufffe")).replace("\uffff", escape_char("\uffff"))
    return text


def attr(value) -> str:
    """A quoted attribute value: ``"..."``."""
    text = _clean(str(value))
    return '"' + "".join(_ATTR.get(c, c) for c in text).replace("##[", "##&#91;") + '"'


def text(value: str) -> str:
    """Element content (line ends kept)."""
    return "".join(_TEXT.get(c, c) for c in _clean(value)).replace("##[", "##&#91;")
