"""``--format sarif``: a SARIF 2.1.0 log that GitHub code scanning ingests completely.

One run, one tool (``cnlint``; custom and plugin rules are listed in the
driver next to the built-in ones). What goes where, and why (docs/sarif.md
has the user-facing version):

* **Paths.** ``artifactLocation.uri`` is relative to the repository root (the
  ``repo_root`` argument, else the nearest directory with a ``.git`` at or
  above the config root, else the config root) with ``uriBaseId``
  ``%SRCROOT%``. GitHub resolves relative URIs against the repository root,
  so results show up on the right file whichever directory cnlint ran from.
  ``run.originalUriBaseIds`` declares ``%SRCROOT%`` without a ``uri`` (SARIF
  allows that): the root's absolute path is a detail of the machine that made
  the log, and is only recorded when asked (``root_uri=True``,
  ``--sarif-root-uri``). Notices name files relative to the root too. A file
  outside the root gets an absolute ``file://`` URI. URIs use ``/`` and
  percent-encode only what RFC 3986 requires (space, ``%``, ``#``, ``?``,
  non-ASCII, ...); a file name that is not UTF-8 has its raw bytes
  percent-encoded (``%FF``). Text is valid UTF-8 (``escape.json_safe``).
* **Columns** are in the unit ``run.columnKind`` declares: code points or
  UTF-16 code units (a tab is one column in both). A UTF-8 byte order mark is
  not counted (SARIF: text positions do not depend on a BOM).
* **Fingerprints.** ``partialFingerprints["cnlint/v1"]`` is cnlint's own
  (rule id + flagged code + its line, whitespace-insensitive, plus an
  occurrence counter; see ``runner.assign_fingerprints``). We never write
  ``primaryLocationLineHash``: that one is GitHub's, and ``upload-sarif``
  computes it from the checked-out file.
* **Fixes.** Only *safe* fixes go in ``result.fixes``: that array is what
  generic SARIF viewers offer to apply, and an unsafe fix must never be one
  click away by mistake. Unsafe fixes and suggestions are SARIF ``fix`` objects
  too, but under ``result.properties["cnlint/unsafeFixes"]`` and
  ``["cnlint/suggestions"]``. Every fix object also carries
  ``properties.applicability``.
* **Suppressed findings** are left out unless asked for; then they carry
  ``suppressions: [{"kind": "inSource", "justification": reason}]``.
* **Run health.** ``invocations[0].executionSuccessful`` is false when a rule
  or the configuration failed; every notice becomes a
  ``toolExecutionNotification`` (GitHub shows them on the tool status page).
* **Baselines.** ``baselineState`` is "new" or "unchanged" when a baseline or
  ``--new-from-rev`` applies; ``include_baseline`` adds the hidden findings.
* **Limits.** GitHub rejects a run with more than 25,000 results or a file over
  10 MB gzip-compressed. Past either, the least important results are dropped
  (suppressed ones, then baseline-hidden ones, then by level), the order of the
  rest is kept, and a notification says how many were dropped. Rules carry at
  most 20 tags and results at most 1,000 locations, GitHub's other hard limits.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from urllib.parse import quote

from .. import __version__
from ..config import repository_root
from ..model import Applicability, Finding, Notice, NoticeKind, Severity, Span
from ..rule import Rule
from ..runner import RunResult
from .escape import json_safe

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/cnlint/cnlint"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "cnlint/v1"
COLUMN_KINDS = ("unicodeCodePoints", "utf16CodeUnits")

# GitHub code scanning's hard limits (docs: "SARIF results exceed hard limit").
MAX_RESULTS = 25_000
#: 10 MB gzip-compressed per file; we stay a little under it because
#: upload-sarif adds a primaryLocationLineHash to every result before uploading.
MAX_GZIP_BYTES = 9_500_000
MAX_TAGS = 20
MAX_LOCATIONS = 1_000  # per result, the primary location included
MAX_DESCRIPTION = 1_024  # characters of shortDescription/fullDescription GitHub keeps
#: Up to this many results the log is indented throughout; past it each result
#: is one line (json's indenting encoder is pure Python, 5x slower).
PRETTY_MAX_RESULTS = 2_000

_PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_LINK_SHAPED = re.compile(r"\[([^\[\]]*)\]\(")

# Notification descriptors: (id, short description, level).
_NOTIFICATIONS = {
    "internal-error": ("cnlint/internal-error", "A rule or cnlint itself failed; results may be incomplete."),
    "config": ("cnlint/config-error", "The configuration is invalid or names something that is missing."),
    "usage": ("cnlint/usage-error", "A path named on the command line does not exist; nothing was linted there."),
    "skipped": ("cnlint/skipped-file", "A file was not checked (binary, not UTF-8, too large or unreadable)."),
    "not-analysed": ("cnlint/lines-not-analysed",
                     "Lines of a file the parser could not read; the rules checked the rest of the file."),
    "truncated": ("cnlint/results-truncated", "Results were left out to stay within GitHub's upload limits."),
}


# ---------------------------------------------------------------- paths

def find_repo_root(start: str) -> str:
    """``start``'s repository root (``config.repository_root``), or ``start``
    itself when there is none."""
    return repository_root(start) or os.path.abspath(start)


def repo_relative(path: str, root: str) -> str | None:
    """``path`` (relative to the working directory, or absolute) relative to
    ``root`` with "/" separators, or None when it lies outside ``root``.

    Symlinks are resolved when the target is inside the root too: GitHub cannot
    show a result reported on a symlink's path.
    """
    ap = os.path.abspath(path)
    real = _relpath(os.path.realpath(ap), os.path.realpath(root))
    return real if real is not None else _relpath(ap, root)


def _relpath(path: str, root: str) -> str | None:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


# RFC 3986 pchar minus the unreserved set quote() keeps anyway: sub-delims, ":" and "@".
_PCHAR_SAFE = "!$&'()*+,;=:@"


def uri_from_relative(rel: str) -> str:
    """A relative-path reference: each segment percent-encoded only where it must be.

    ``:`` stays literal except in the first segment, where it would read as a
    URI scheme (RFC 3986 §4.2).
    """
    if rel in ("", "."):
        return "./"
    segments = rel.split("/")
    out = [quote(_raw(segments[0]), safe=_PCHAR_SAFE.replace(":", ""))]
    out += [quote(_raw(s), safe=_PCHAR_SAFE) for s in segments[1:]]
    return "/".join(out)


def _raw(segment: str) -> bytes:
    """The bytes of a path segment: a name that is not UTF-8 reaches us with
    its bytes as lone surrogates (surrogateescape); a URI percent-encodes them."""
    try:
        return segment.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name decodes to
        return segment.encode("utf-8", "replace")


def file_uri(abs_path: str, directory: bool = False) -> str:
    """``file:///abs/path`` (``file:///C:/x`` on Windows), with a trailing slash
    for a directory, as ``originalUriBaseIds`` requires."""
    p = os.path.abspath(abs_path).replace(os.sep, "/")
    if not p.startswith("/"):
        p = "/" + p  # C:/x -> /C:/x
    uri = "file://" + "/".join(quote(_raw(s), safe=_PCHAR_SAFE) for s in p.split("/"))
    if directory and not uri.endswith("/"):
        uri += "/"
    return uri


# ---------------------------------------------------------------- text

def _escape_link_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _plain_message(text: str) -> str:
    """Message text that no SARIF viewer reads as an embedded link by accident."""
    return _LINK_SHAPED.sub(lambda m: "\\[" + m.group(1) + "\\](", text)


def _clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _section(help_md: str, title: str) -> str:
    """The body of one ``## title`` section of a help page, paragraphs unwrapped."""
    m = re.search(rf"^##\s+{re.escape(title)}\s*$(.*?)(?=^##\s|\Z)", help_md, re.M | re.S)
    if not m:
        return ""
    paras = [" ".join(line.strip() for line in p.splitlines()) for p in re.split(r"\n\s*\n", m.group(1).strip())]
    return "\n\n".join(p for p in paras if p)


def has_own_docs(meta: type[Rule], origin: str) -> bool:
    """Built-in rules are documented at DOCS_URL; a custom rule only if it says where."""
    own = getattr(meta.docs_url, "__func__", None) is not getattr(Rule.docs_url, "__func__", None)
    return origin == "builtin" or own


# ---------------------------------------------------------------- the log

class _Builder:
    def __init__(self, result: RunResult, column_kind: str, root: str):
        self.utf16 = column_kind == "utf16CodeUnits"
        self.root = root
        self.registry = result.registry
        self._uris: dict[str, dict] = {}

    # ---- positions ----
    def artifact(self, path: str) -> dict:
        loc = self._uris.get(path)
        if loc is None:
            rel = repo_relative(path, self.root)
            loc = ({"uri": uri_from_relative(rel), "uriBaseId": SRCROOT} if rel is not None
                   else {"uri": file_uri(path, directory=os.path.isdir(path))})
            self._uris[path] = loc
        return dict(loc)

    def region(self, path: str, span: Span) -> dict:
        if self.utf16:
            sc = span.start_column_utf16 or span.start_column
            ec = span.end_column_utf16 or span.end_column
        else:
            sc, ec = span.start_column, span.end_column
        sl, el = max(1, span.start_line), max(1, span.end_line)
        sc, ec = max(1, sc), max(1, ec)
        if (el, ec) < (sl, sc):
            el, ec = sl, sc
        return {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec}

    def location(self, path: str, span: Span | None = None) -> dict:
        phys: dict = {"artifactLocation": self.artifact(path)}
        if span is not None:
            phys["region"] = self.region(path, span)
        return {"physicalLocation": phys}

    # ---- rules ----
    def info(self, rule_id: str):
        return self.registry.rules.get(rule_id) if self.registry is not None else None

    def rule_descriptor(self, rule_id: str, fallback: Finding | None) -> dict:
        info = self.info(rule_id)
        if info is None:  # not in the registry (should not happen): describe it from the finding
            name = fallback.rule_name if fallback is not None else ""
            text = name or rule_id
            d = {"id": rule_id, "shortDescription": {"text": text}, "fullDescription": {"text": text},
                 "help": {"text": text}}
            if name:
                d["name"] = name
            return d
        m = info.meta
        summary = (m.summary or m.name or m.id).strip()
        help_md = (m.help or "").strip()
        docs = m.docs_url() if has_own_docs(m, info.origin) else None
        full = _section(help_md, "What it does") or summary
        text = summary + ("\n\n" + help_md if help_md else "") + (f"\n\nDocumentation: {docs}" if docs else "")
        markdown = f"**{summary}**" + ("\n\n" + help_md if help_md else "")
        if docs:
            markdown += f"\n\n[Documentation for {m.id} ({m.name})]({docs})"
        tags = list(dict.fromkeys(t for t in m.tags if t))[:MAX_TAGS]
        props: dict = {"tags": tags, "precision": m.precision,
                       "problem.severity": _PROBLEM_SEVERITY.get(m.severity, "warning")}
        if m.security_severity is not None:
            props["security-severity"] = f"{float(m.security_severity):.1f}"
        d = {
            "id": m.id,
            "name": m.name,
            "shortDescription": {"text": _clip(summary)},
            "fullDescription": {"text": _clip(full)},
            "help": {"text": text, "markdown": markdown},
        }
        if docs:
            d["helpUri"] = docs
        d["defaultConfiguration"] = {"level": Severity(m.severity).value}
        d["properties"] = props
        return d

    # ---- results ----
    def fix(self, f: Finding) -> dict | None:
        fix = f.fix
        if fix is None or not fix.edits:
            return None
        replacements = [{"deletedRegion": self.region(f.path, e.span), "insertedContent": {"text": e.text}}
                        for e in fix.edits]
        return {
            "description": {"text": fix.description or "Apply the fix"},
            "artifactChanges": [{"artifactLocation": self.artifact(f.path), "replacements": replacements}],
            "properties": {"applicability": fix.applicability.value},
        }

    def result(self, f: Finding) -> dict:
        message = _plain_message(f.message) or f.rule_id
        related = []
        for i, rel in enumerate(f.related[: MAX_LOCATIONS - 1], start=1):
            loc = {"id": i, **self.location(rel.path, rel.span)}
            loc["message"] = {"text": rel.message or "related location"}
            related.append((loc, rel))
        if related:
            # GitHub links related locations only when the message embeds them.
            links = ", ".join(f"[{_escape_link_text(r.message or 'related location')}]({loc['id']})"
                              for loc, r in related)
            message += f" (related: {links})"
        res: dict = {
            "ruleId": f.rule_id,
            "level": f.severity.value,
            "message": {"text": message},
            "locations": [self.location(f.path, f.span)],
        }
        if related:
            res["relatedLocations"] = [loc for loc, _ in related]
        if f.fingerprint:
            res["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
        baseline = getattr(f, "baseline", None)
        if baseline in ("new", "unchanged", "updated", "absent"):
            res["baselineState"] = baseline
        props: dict = {}
        fx = self.fix(f)
        if fx is not None:
            kind = f.fix.applicability
            if kind == Applicability.SAFE:
                res["fixes"] = [fx]
            elif kind == Applicability.UNSAFE:
                props["cnlint/unsafeFixes"] = [fx]
            else:
                props["cnlint/suggestions"] = [fx]
        if len(f.related) > len(related):
            props["cnlint/relatedLocationsDropped"] = len(f.related) - len(related)
        if f.suppressed_by is not None:
            sup: dict = {"kind": "inSource"}
            if f.suppressed_by:
                sup["justification"] = f.suppressed_by
            res["suppressions"] = [sup]
        if f.baseline is not None:
            res["baselineState"] = f.baseline  # "new" | "unchanged" (--baseline, --new-from-rev)
        if props:
            res["properties"] = props
        return res

    # ---- notifications ----
    def notice_location(self, n: Notice) -> dict | None:
        if not n.path:
            return None
        if n.kind in (NoticeKind.SKIPPED, NoticeKind.NOT_ANALYSED) or os.path.exists(n.path):
            return self.location(n.path)
        return None


def _priority(f: Finding, registry) -> tuple:
    """Sort key, most important first: active, then not hidden by a baseline, then
    by level, then by security severity."""
    info = registry.rules.get(f.rule_id) if registry is not None else None
    sec = info.meta.security_severity if info is not None and info.meta.security_severity is not None else 0.0
    return (f.suppressed_by is not None, getattr(f, "baseline", None) == "unchanged", -f.severity.rank,
            -float(sec))


def render(result: RunResult, *, column_kind: str = "unicodeCodePoints", all_rules: bool = False,
           include_suppressed: bool = False, category: str | None = None,
           repo_root: str | None = None, include_baseline: bool = False, root_uri: bool = False) -> str:
    """The SARIF log of ``result`` as JSON text.

    ``include_baseline`` adds the findings a baseline or ``--new-from-rev`` hid
    (``result.hidden``), with ``baselineState`` "unchanged". ``root_uri``
    records the repository root's absolute ``file://`` URI in ``originalUriBaseIds``.
    """
    if column_kind not in COLUMN_KINDS:
        raise ValueError(f"column_kind must be one of {', '.join(COLUMN_KINDS)}, not {column_kind!r}")
    root = os.path.abspath(repo_root) if repo_root else find_repo_root(result.root)
    b = _Builder(result, column_kind, root)

    entries: list[Finding] = []
    built: list[dict] = []
    seen: set = set()
    extra = (list(getattr(result, "hidden", [])) if include_baseline else []) + \
        (list(result.suppressed) if include_suppressed else [])
    for f in list(result.findings) + extra:
        res = b.result(f)
        # A symlink and its target are linted twice but are one result at one URI.
        loc = res["locations"][0]["physicalLocation"]
        key = (f.rule_id, loc["artifactLocation"]["uri"], tuple(loc["region"].values()), f.fingerprint,
               f.suppressed_by is None)
        if key not in seen:
            seen.add(key)
            entries.append(f)
            built.append(res)

    # ---- rules: those that reported, those a notification is about, or every enabled one
    rule_ids = {f.rule_id for f in entries}
    rule_ids |= {n.rule_id for n in result.notices if n.rule_id and b.info(n.rule_id) is not None}
    if all_rules:
        rule_ids |= {r for r in result.enabled if b.info(r) is not None}
    example: dict[str, Finding] = {}
    for f in entries:
        example.setdefault(f.rule_id, f)
    ordered = sorted(rule_ids)
    index = {rid: i for i, rid in enumerate(ordered)}
    rules = [b.rule_descriptor(rid, example.get(rid)) for rid in ordered]

    # Each result is serialised once; cutting results to fit a limit only re-joins strings.
    pretty = len(built) <= PRETTY_MAX_RESULTS
    texts = [json.dumps(_with_rule(res, index), ensure_ascii=False, **({"indent": 2} if pretty else {}))
             for res in built]
    order = sorted(range(len(entries)), key=lambda i: _priority(entries[i], result.registry))

    def log(n: int) -> str:
        skeleton = _log(result, b, rules, dropped=len(entries) - n, total=len(entries),
                        column_kind=column_kind, category=category, root_uri=root_uri)
        return _splice(skeleton, [texts[i] for i in sorted(order[:n])])

    n = min(len(entries), MAX_RESULTS)
    text = log(n)
    size = _gzip_size(text)
    empty = None
    while size > MAX_GZIP_BYTES and n > 0:
        # Results take about the same room each: aim just below the budget, then check.
        if empty is None:
            empty = _gzip_size(log(0))
        per_result = max(1.0, (size - empty) / n)
        n = min(n - 1, max(0, int((MAX_GZIP_BYTES - empty) / per_result * 0.98)))
        text = log(n)
        size = _gzip_size(text)
    return text


_PLACEHOLDER = "\0cnlint-results\0"


def _splice(doc: dict, results: list[str]) -> str:
    """``doc`` pretty-printed, with the serialised ``results`` as ``runs[0].results``."""
    head, token, tail = json.dumps(doc, indent=2, ensure_ascii=False).rpartition(
        json.dumps(_PLACEHOLDER, ensure_ascii=False))
    assert token, "results placeholder missing"
    if results:
        pad = " " * 8  # runs[0].results[i] sits at depth 4
        body = "[\n" + ",\n".join(pad + r.replace("\n", "\n" + pad) for r in results) + "\n" + " " * 6 + "]"
    else:
        body = "[]"
    return json_safe(head + body + tail + "\n")


def _gzip_size(text: str) -> int:
    data = text.encode("utf-8")
    if len(data) <= MAX_GZIP_BYTES:
        return len(data)  # gzip only shrinks JSON: no need to compress to know it fits
    return len(gzip.compress(data, compresslevel=6))


def _log(result: RunResult, b: _Builder, rules: list[dict], *, dropped: int, total: int,
         column_kind: str, category: str | None, root_uri: bool = False) -> dict:
    """The log without its results (``_PLACEHOLDER`` stands in for them)."""
    index = {r["id"]: i for i, r in enumerate(rules)}

    # ---- notifications
    used: list[str] = []
    notes = []

    def descriptor(key: str) -> dict:
        if key not in used:
            used.append(key)
        return {"id": _NOTIFICATIONS[key][0], "index": used.index(key)}

    for n in result.notices:
        key = n.kind.value
        loc = b.notice_location(n)
        where = (repo_relative(n.path, b.root) or n.path) if n.path else ""
        # a message that names a file under the root names it relative to the root
        message = n.message.replace(b.root.rstrip(os.sep) + os.sep, "")
        text = f"{where}: {message}" if where else message
        level = "error" if n.is_error else "note" if n.kind == NoticeKind.NOT_ANALYSED else "warning"
        note: dict = {"level": level, "message": {"text": text},
                      "descriptor": descriptor(key)}
        if loc is not None:
            note["locations"] = [loc]
        if n.rule_id:
            ref: dict = {"id": n.rule_id}
            if n.rule_id in index:
                ref["index"] = index[n.rule_id]
            note["associatedRule"] = ref
        notes.append(note)
    if dropped:
        notes.append({
            "level": "warning",
            "descriptor": descriptor("truncated"),
            "message": {"text": (
                f"{dropped} of {total} results were left out of this SARIF log to stay within GitHub code "
                f"scanning's upload limits ({MAX_RESULTS:,} results per run, 10 MB gzip-compressed per "
                f"file); the most severe results were kept. Run `cnlint check --format json` for all of them, "
                f"or narrow the run with --select/--ignore.")},
        })

    driver: dict = {"name": "cnlint", "version": __version__}
    if _SEMVER.match(__version__):
        driver["semanticVersion"] = __version__
    driver["informationUri"] = INFORMATION_URI
    driver["rules"] = rules
    if used:
        driver["notifications"] = [{"id": _NOTIFICATIONS[k][0], "shortDescription": {"text": _NOTIFICATIONS[k][1]}}
                                   for k in used]
    run: dict = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"{category.strip('/')}/" if category and category.strip("/") else "cnlint/"},
        "originalUriBaseIds": {SRCROOT: {**({"uri": file_uri(b.root, directory=True)} if root_uri else {}),
                                         "description": {"text": "The root of the repository."}}},
        "columnKind": column_kind,
        "invocations": [{
            "executionSuccessful": not result.has_errors,
            "toolExecutionNotifications": notes,
            "properties": {"filesChecked": result.files, "filesParsed": result.parsed,
                           "filesGenerated": result.generated},  # not linted (skip-generated-code)
        }],
        "results": _PLACEHOLDER,  # last: _splice relies on nothing but brackets following it
    }
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _with_rule(res: dict, index: dict[str, int]) -> dict:
    """A copy of ``res`` with ``ruleIndex`` next to ``ruleId``."""
    rid = res["ruleId"]
    return {"ruleId": rid, "ruleIndex": index[rid], **{k: v for k, v in res.items() if k != "ruleId"}}


__all__ = ["render", "find_repo_root", "repo_relative", "uri_from_relative", "file_uri", "COLUMN_KINDS",
           "MAX_RESULTS", "MAX_GZIP_BYTES"]
