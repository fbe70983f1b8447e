"""Untrusted text (file names, messages, source code) made safe to print.

Text meant for a terminal or a CI log gets visible escapes for everything that
could move the cursor, recolour the screen, reorder the text or end the line:
C0 and C1 controls (``\\n``, ``\\r``, ``\\x1b``, ...), DEL, the Unicode line and
paragraph separators and the bidi controls (``\\u202e``). A byte that is not
UTF-8, which reaches us as a lone surrogate (``os.fsdecode``'s surrogateescape),
is shown as ``\\xff``. GitHub Actions runs a log line as a workflow command
when it starts with ``::`` after leading whitespace, or when it contains
``##[`` anywhere (the runner's legacy syntax): those are defused as well.

JSON text only needs its lone surrogates replaced (``json_safe``) to be valid
UTF-8; escaping ``##[`` there is lossless (``\\u005b`` reads back as ``[``).
"""

from __future__ import annotations

import os
import re
import secrets

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# DEL, C1 controls, bidi controls, line/paragraph separators, lone surrogates
_OTHER = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_CHARS = "\x00-\x08\x0a-\x1f" + _OTHER  # with the C0 controls but tab
_UNSAFE = re.compile(f"[\t{_UNSAFE_CHARS}]|##\\[")
_UNSAFE_KEEP_TABS = re.compile(f"[{_UNSAFE_CHARS}]|##\\[")
# leading whitespace (and our own colour codes), then "::"
_COMMAND_START = re.compile(r"^((?:\s|\x1b\[[0-9;]*m)*):(?=:)")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LEAD_COLONS = re.compile(r"\s*::")


def escape_char(ch: str) -> str:
    """The visible escape of one unsafe character."""
    if ch in _NAMED:
        return _NAMED[ch]
    o = ord(ch)
    if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def _sub(m: re.Match) -> str:
    s = m.group()
    return "##\\x5b" if s == "##[" else escape_char(s)


def escape(text: str, keep_tabs: bool = False) -> str:
    """``text`` with every unsafe character as a visible escape (one line, no controls)."""
    pattern = _UNSAFE_KEEP_TABS if keep_tabs else _UNSAFE
    return pattern.sub(_sub, text) if pattern.search(text) else text


_CONTROLS = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_OTHER}]")  # all but tab, LF and CR


def escape_controls(text: str) -> str:
    """Like ``escape``, but keeps tabs, LF and CR, for a medium that encodes
    line ends itself (GitHub's workflow commands)."""
    return _CONTROLS.sub(lambda m: escape_char(m.group()), text) if _CONTROLS.search(text) else text


def char_escapes(line: str) -> list[str] | str:
    """How each character of a source line is shown (tabs kept), so that a caret
    line can be aligned under the escaped text; the line itself when nothing in
    it needs escaping (the common case, and much cheaper)."""
    lead = _LEAD_COLONS.match(line)
    if not lead and not _UNSAFE_KEEP_TABS.search(line):
        return line
    out = [escape_char(c) if _UNSAFE_KEEP_TABS.match(c) else c for c in line]
    for m in re.finditer(r"##\[", line):
        out[m.end() - 1] = "\\x5b"
    if lead:
        out[lead.end() - 2] = "\\x3a"
    return out


def guard_line(line: str) -> str:
    """A whole output line that the GitHub runner will not read as a ``::command``."""
    if "::" not in line:
        return line
    return _COMMAND_START.sub(lambda m: m.group(1) + "\\x3a", line, count=1)


def safe_line(text: str) -> str:
    """``escape`` then ``guard_line``: for a line made only of untrusted text."""
    return guard_line(escape(text))


def display_path(path: str) -> str:
    """A file name for a terminal: escaped, and never the start of a ``::command``."""
    shown = escape(path)
    return "./" + shown if shown.lstrip().startswith("::") else shown


def _json_surrogate(m: re.Match) -> str:
    o = ord(m.group())
    # inside a JSON string: "\\xff" decodes to the four characters \xff
    return f"\\\\x{o - 0xDC00:02x}" if 0xDC80 <= o <= 0xDCFF else "\ufffd"


def json_safe(text: str) -> str:
    """Serialised JSON (``ensure_ascii=False``) made valid UTF-8 and inert in a CI log.

    A byte of a file name that was not UTF-8 becomes the text ``\\xff``; any
    other lone surrogate becomes U+FFFD. ``#`` only occurs inside JSON strings,
    so ``##[`` can be spelled ``##\\u005b`` without changing any value.
    """
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(_json_surrogate, text)
    return text.replace("##[", "##\\u005b") if "##[" in text else text


def verbatim_in_ci(text: str) -> str:
    """Text that must stay byte for byte (a diff) made inert in a GitHub Actions
    log: the runner's ``stop-commands`` with a token nobody can guess, so no line
    of it runs as a workflow command. Unchanged outside GitHub Actions."""
    if not text or os.environ.get("GITHUB_ACTIONS") != "true":
        return text
    token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text}" + ("" if text.endswith("\n") else "\n") + f"::{token}::\n"
