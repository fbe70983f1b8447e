"""Adopting cnlint on existing code: baselines and new-code-only runs.

Baseline file (``--write-baseline``, ``--baseline``; docs/baseline.md): JSON
lines, sorted, one entry per (path, rule, fingerprint) with a count::

    {"cnlint-baseline": 1, "tool-version": "0.1.0"}
    {"path": "pkg/a.go", "rule": "SEC001", "fingerprint": "3f1c…", "count": 1, "message": "…"}

The fingerprint is the one SARIF carries in ``partialFingerprints`` without the
occurrence suffix: rule id + the flagged code + its line, whitespace removed.
Line numbers are not part of it, so code that moves within a file still
matches; ``count`` makes a second copy of an old finding new. Entries left
over after matching by path are matched by fingerprint in other files, so
code moved between files (and renamed files) stays old.

New code only (``--new-from-rev``): findings whose lines were added or changed
since a git revision, from ``git diff -M`` of the working tree; untracked files
count as new.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from . import __version__
from .config import ConfigError
from .model import Finding
from .reporters.output import write_report

HEADER_KEY = "cnlint-baseline"
FORMAT = 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def base_fingerprint(f: Finding) -> str:
    return f.fingerprint.split(":", 1)[0]


def _key_path(path: str, anchor: str) -> str:
    return os.path.relpath(os.path.abspath(path), anchor).replace(os.sep, "/")


@dataclass
class Baseline:
    path: str
    entries: Counter = field(default_factory=Counter)  # (path, rule, fingerprint) -> count
    messages: dict = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        """Paths in the file are relative to the file's directory."""
        return os.path.dirname(os.path.abspath(self.path))

    @classmethod
    def read(cls, path: str) -> "Baseline":
        bl = cls(path)
        try:
            with open(path, encoding="utf-8") as f:
                lines = [ln for ln in f.read().splitlines() if ln.strip()]
        except OSError as e:
            raise ConfigError(f"cannot read baseline {path}: {e.strerror}") from e
        try:
            header = json.loads(lines[0]) if lines else {}
            if header.get(HEADER_KEY) != FORMAT:
                raise ValueError("not a cnlint baseline (missing header line)")
            for n, line in enumerate(lines[1:], 2):
                e = json.loads(line)
                key = (e["path"], e["rule"], e["fingerprint"])
                bl.entries[key] += int(e.get("count", 1))
                bl.messages[key] = e.get("message", "")
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}: invalid baseline: {e}") from e
        return bl

    @classmethod
    def from_findings(cls, path: str, findings: list[Finding]) -> "Baseline":
        bl = cls(path)
        for f in findings:
            key = (_key_path(f.path, bl.anchor), f.rule_id, base_fingerprint(f))
            bl.entries[key] += 1
            bl.messages.setdefault(key, f.message)
        return bl

    def write(self) -> None:
        lines = [json.dumps({HEADER_KEY: FORMAT, "tool-version": __version__})]
        for key in sorted(self.entries):
            p, rule, fp = key
            entry = {"path": p, "rule": rule, "fingerprint": fp, "count": self.entries[key],
                     "message": self.messages.get(key, "")}
            line = json.dumps(entry, ensure_ascii=False)
            # a file name that is not UTF-8 holds lone surrogates: \udcff escapes keep it exact
            lines.append(json.dumps(entry) if _SURROGATE.search(line) else line)
        write_report(self.path, "\n".join(lines) + "\n")  # atomic: a full disk leaves the old baseline

    def split(self, findings: list[Finding]) -> tuple[list[Finding], list[Finding], int]:
        """(new, unchanged, fixed): findings not in the baseline, findings it
        covers (marked ``baseline="unchanged"``), and how many of its entries
        no longer occur."""
        left = Counter(self.entries)
        new_or_moved: list[Finding] = []
        unchanged: list[Finding] = []
        for f in findings:  # sorted: earlier occurrences are the old ones
            key = (_key_path(f.path, self.anchor), f.rule_id, base_fingerprint(f))
            if left[key] > 0:
                left[key] -= 1
                unchanged.append(replace(f, baseline="unchanged"))
            else:
                new_or_moved.append(f)
        # Second pass: code moved to another file (or a renamed file) stays old.
        by_fp: dict[tuple[str, str], int] = defaultdict(int)
        for (p, rule, fp), n in left.items():
            if n > 0:
                by_fp[(rule, fp)] += n
        new = []
        for f in new_or_moved:
            k = (f.rule_id, base_fingerprint(f))
            if by_fp.get(k, 0) > 0:
                by_fp[k] -= 1
                unchanged.append(replace(f, baseline="unchanged"))
            else:
                new.append(replace(f, baseline="new"))
        fixed = sum(by_fp.values())
        return new, sorted(unchanged), fixed


# ---- new code only ----

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _git(cwd: str, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except FileNotFoundError as e:
        raise ConfigError("--new-from-rev needs git on PATH") from e
    except subprocess.CalledProcessError as e:
        raise ConfigError(f"git {' '.join(args)}: {e.stderr.strip() or f'exit status {e.returncode}'}") from e
    return out.stdout


def merge_base(rev: str, cwd: str = ".") -> str:
    _verify(cwd, rev, "--new-from-merge-base")
    return _git(cwd, "merge-base", rev, "HEAD").strip()


def _verify(cwd: str, rev: str, option: str) -> None:
    """A revision that does not name a commit is the user's typo: say so, not git's exit status."""
    try:
        _git(cwd, "rev-parse", "--verify", "--quiet", rev + "^{commit}")
    except ConfigError:
        _git(cwd, "rev-parse", "--show-toplevel")  # not a git repository: git's own message
        raise ConfigError(f"{option} {rev}: no commit of that name in this git repository") from None


@dataclass
class ChangedLines:
    root: str
    lines: dict[str, set[int]]  # absolute path -> changed line numbers (1-based)
    new_files: set[str]  # absolute paths that are wholly new (untracked or added)

    def covers(self, f: Finding, cwd: str) -> bool:
        p = os.path.abspath(os.path.join(cwd, f.path))
        if p in self.new_files:
            return True
        changed = self.lines.get(p)
        if not changed:
            return False
        return any(line in changed for line in range(f.span.start_line, f.span.end_line + 1))


def changed_since(rev: str, cwd: str = ".") -> ChangedLines:
    root = _git(cwd, "rev-parse", "--show-toplevel").strip()
    _verify(root, rev, "--new-from-rev")
    diff = _git(root, "-c", "core.quotePath=false", "diff", "--unified=0", "--no-color", "--no-ext-diff", "-M", rev, "--")
    lines: dict[str, set[int]] = defaultdict(set)
    new_files: set[str] = set()
    current = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            current = None if target == "/dev/null" else os.path.join(root, target[2:] if target.startswith("b/")
                                                                     else target)
        elif current and (m := _HUNK.match(line)):
            start, count = int(m.group(1)), int(m.group(2) or 1)
            lines[current].update(range(start, start + count))
    # files added since rev appear with "--- /dev/null": all their lines are in hunks already
    for rel in _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if rel:
            new_files.add(os.path.join(root, rel))
    return ChangedLines(root, dict(lines), new_files)
