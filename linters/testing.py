"""Fixture tests for rules, in the spirit of go/analysis's ``analysistest``.

A fixture directory holds one folder per rule id::

    fixtures/SEC001/bad.go       lines that must be reported carry a comment
    fixtures/SEC001/good.go      ... and traps that must stay quiet carry none

A line that must produce a finding ends with an expectation comment::

    InsecureSkipVerify: true, // want: SEC001
    requests.get(url, verify=False)  # want: SEC001 "verify=False"

``want:`` takes one or more rule ids, each optionally followed by a quoted
regular expression the message must match. Every finding on a line without a
matching expectation is a failure, and so is every expectation without a
finding. A ``cnlint.toml`` inside a rule's folder (or a subfolder) sets options
for the fixtures under it. Only the rule under test (and CN001, so broken
fixtures fail loudly) runs.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

from .config import Config, load_config
from .discovery import Excluder, discover
from .engine import SYNTAX_ERROR, Engine, resolve_selection
from .loader import Registry

_ID = r"[A-Z](?:[A-Z0-9]{0,3}[A-Z])?[0-9]{3,4}"
_WANT = re.compile(r'(?://|#|/\*)\s*want:\s*(?P<body>(?:' + _ID + r'(?:\s*"(?:[^"\\]|\\.)*")?[\s,]*)+)')
_ITEM = re.compile(r'(?P<id>' + _ID + r')(?:\s*"(?P<rx>(?:[^"\\]|\\.)*)")?')


@dataclass(frozen=True)
class Expectation:
    rule_id: str
    pattern: str | None


@dataclass(frozen=True)
class Mismatch:
    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


@dataclass
class FixtureReport:
    rule_id: str
    files: int = 0
    expected: int = 0  # expectation comments (true positives the rule must find)
    trap_files: int = 0  # files with no expectation: everything in them must stay quiet
    mismatches: list[Mismatch] | None = None
    # the rule crashed (or the engine failed) on a fixture: exit 2, not a mismatch to fix in the fixture
    errors: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.files > 0


def parse_expectations(text: str) -> dict[int, list[Expectation]]:
    out: dict[int, list[Expectation]] = defaultdict(list)
    for i, line in enumerate(text.splitlines(), 1):
        m = _WANT.search(line)
        if m:
            for item in _ITEM.finditer(m.group("body")):
                rx = item.group("rx")
                out[i].append(Expectation(item.group("id"), rx.replace('\\"', '"') if rx is not None else None))
    return dict(out)


def _config_for(path: str, top: str, cache: dict[str, Config]) -> Config:
    d = os.path.dirname(os.path.abspath(path))
    top = os.path.abspath(top)
    while True:
        candidate = os.path.join(d, "cnlint.toml")
        if os.path.isfile(candidate):
            break
        if d == top or os.path.dirname(d) == d:
            candidate = ""
            break
        d = os.path.dirname(d)
    if candidate not in cache:
        cache[candidate] = load_config(candidate) if candidate else Config(root=top)
    return cache[candidate]


def check_rule_fixtures(rule_id: str, folder: str, registry: Registry) -> FixtureReport:
    report = FixtureReport(rule_id, mismatches=[])
    targets, problems = discover([folder], Excluder([], folder), respect_gitignore=False)
    report.mismatches.extend(Mismatch(p, 0, m) for p, m in problems)
    configs: dict[str, Config] = {}
    engines: dict[int, Engine] = {}
    for t in targets:
        if os.path.basename(t.path) == "__init__.py":
            continue
        cfg = _config_for(t.path, folder, configs)
        engine = engines.get(id(cfg))
        if engine is None:
            sel = resolve_selection(cfg, registry, select=[rule_id, SYNTAX_ERROR])
            engine = engines[id(cfg)] = Engine(cfg, registry, sel)
        result = engine.check(t.path, t.language)
        report.files += 1
        with open(t.path, encoding="utf-8", errors="replace") as f:
            wants = parse_expectations(f.read())
        report.expected += sum(len(v) for v in wants.values())
        report.trap_files += not wants
        for n in result.notices:
            m = Mismatch(t.path, 0, f"{n.kind.value}: {n.message}")
            report.mismatches.append(m)
            if n.is_error:
                report.errors.append(m)
        got: dict[int, list] = defaultdict(list)
        for fd in result.findings:
            got[fd.span.start_line].append(fd)
        for line in sorted(set(got) | set(wants)):
            pending = list(got.get(line, []))
            for exp in wants.get(line, []):
                hit = next((fd for fd in pending if fd.rule_id == exp.rule_id and
                            (exp.pattern is None or re.search(exp.pattern, fd.message))), None)
                if hit is None:
                    near = [fd.message for fd in pending if fd.rule_id == exp.rule_id]
                    why = f" (message was: {near[0]!r})" if near else ""
                    report.mismatches.append(Mismatch(
                        t.path, line, f"expected {exp.rule_id}"
                        + (f" matching {exp.pattern!r}" if exp.pattern else "") + f", got none{why}"))
                else:
                    pending.remove(hit)
            for fd in pending:
                report.mismatches.append(Mismatch(t.path, line, f"unexpected {fd.rule_id}: {fd.message}"))
    return report


def run_fixtures(fixtures_dir: str, registry: Registry, only=None) -> list[FixtureReport]:
    """Check every rule folder under ``fixtures_dir`` (or those in ``only``)."""
    reports = []
    for name in sorted(os.listdir(fixtures_dir)):
        folder = os.path.join(fixtures_dir, name)
        if not os.path.isdir(folder) or name.startswith(("_", ".")):
            continue
        if only and name not in only:
            continue
        if name not in registry.rules:
            rep = FixtureReport(name, mismatches=[Mismatch(folder, 0, f"no rule with id {name} is loaded")])
            reports.append(rep)
            continue
        reports.append(check_rule_fixtures(name, folder, registry))
    return reports


def builtin_fixtures_dir() -> str:
    from . import fixtures

    return os.path.dirname(fixtures.__file__)
