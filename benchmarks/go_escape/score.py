#!/usr/bin/env python3
"""Score PERF001 findings against the compiler's truth (truth.py).

    cnlint check GOROOT/src --select PERF001 --format json -o perf001.json --exit-zero
    python benchmarks/go_escape/score.py --truth out/truth.json --findings perf001.json [--root GOROOT/src]
    python benchmarks/go_escape/score.py --truth out/truth.json --findings cnlint.sarif

Findings come from cnlint's JSON (``--format json``) or SARIF output (either
column kind); relative paths are resolved against ``--root`` (default: the
current directory; SARIF's ``originalUriBaseIds`` when present). Only findings
of ``--rule`` (PERF001) in files the compiler compiled count, and not those
in functions the compiler never analysed (generic functions nobody
instantiates): nothing is known about them.

A finding is a true positive when it starts at a positive site of the truth
(same file, line and byte column: PERF001 reports at the place the compiler
reports). Every other finding is a false positive, classified as:

* ``escapes-not-via-result``: the compiler moves it to the heap, but its
  address reaches no result (stored in a global, passed to a function...),
* ``no-escape``: the compiler reports no escape there (the allocation stays
  on the stack, or there is no allocation at that position at all),
* ``other-column``: a positive site on the same line at another column (a
  position bug rather than a wrong answer).

Files cnlint does not lint by default (under ``vendor/``, ``testdata/``,
``build/``... see ``--exclude``) are left out of the truth as well, so that
recall measures the rule, not the file selection.

"Actionable" precision and recall count only the positive sites where
returning a value removes an allocation: truth.py's ``actionable``, a
function the compiler does not inline, or of which an inlined copy escapes at
a call site of the build (a finding in an inlined function whose copies stay
on the callers' stacks is counted ``inlined_not_escaping``).

Every positive site without a finding is a false negative, counted by kind
(``composite`` ``&T{}``, ``new``, ``variable``) and by how the compiler
explains its flow (truth.py's ``category``: ``direct-return``,
``via-variable``, ``through-call``, ``closure``, ``named-result``,
``range-func``, ``other-root:*`` when the compiler explains it through
another root first).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from urllib.parse import unquote, urlparse


def _line(path: str, line: int, cache: dict) -> bytes:
    ls = cache.get(path)
    if ls is None:
        try:
            with open(path, "rb") as f:
                ls = f.read().split(b"\n")
        except OSError:
            ls = []
        cache[path] = ls
    return ls[line - 1] if 0 < line <= len(ls) else b""


def byte_column(path: str, line: int, column: int, kind: str, cache: dict) -> int:
    """1-based byte column from a code point (or UTF-16) column."""
    text = _line(path, line, cache).decode("utf-8", "replace")
    if kind == "utf16CodeUnits":
        units, i = 0, 0
        while i < len(text) and units < column - 1:
            units += 2 if ord(text[i]) > 0xFFFF else 1
            i += 1
        prefix = text[:i]
    else:
        prefix = text[: column - 1]
    return len(prefix.encode("utf-8")) + 1


def load_findings(path: str, rule: str, root: str) -> list[tuple[str, int, int, str]]:
    """(abs path, line, byte column, message) of every finding of ``rule``."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    cache: dict = {}
    out = []
    if "runs" in doc:  # SARIF
        for run in doc["runs"]:
            kind = run.get("columnKind", "unicodeCodePoints")
            bases = {}
            for name, base in (run.get("originalUriBaseIds") or {}).items():
                uri = base.get("uri", "")
                bases[name] = unquote(urlparse(uri).path) if uri.startswith("file:") else os.path.join(root, uri)
            for res in run.get("results", []):
                if res.get("ruleId") != rule or res.get("suppressions"):
                    continue
                loc = res["locations"][0]["physicalLocation"]
                art = loc["artifactLocation"]
                uri = art["uri"]
                if uri.startswith("file:"):
                    p = unquote(urlparse(uri).path)
                else:
                    p = os.path.join(bases.get(art.get("uriBaseId"), root), unquote(uri))
                p = os.path.normpath(p)
                reg = loc["region"]
                line = reg["startLine"]
                col = byte_column(p, line, reg.get("startColumn", 1), kind, cache)
                out.append((p, line, col, res.get("message", {}).get("text", "")))
    else:  # cnlint JSON
        for fd in doc["findings"]:
            if fd["rule_id"] != rule:
                continue
            p = os.path.normpath(os.path.join(root, fd["path"]))
            line = fd["start"]["line"]
            col = byte_column(p, line, fd["start"]["column"], "unicodeCodePoints", cache)
            out.append((p, line, col, fd["message"]))
    return out


def linted(files, root: str, exclude) -> set[str]:
    """The files cnlint lints by default: none under a directory named in ``exclude``."""
    out = set()
    for f in files:
        rel = os.path.relpath(f, root)
        parts = rel.replace(os.sep, "/").split("/")[:-1]
        if rel.startswith("..") or not any(p in exclude for p in parts):
            out.add(f)
    return out


def score(truth: dict, findings: list[tuple[str, int, int, str]], files: set[str] | None = None) -> dict:
    files = set(truth["files"]) if files is None else files
    skip = {f: [tuple(r) for r in rs] for f, rs in truth.get("unanalysed_functions", {}).items()}
    sites = {(s["file"], s["line"], s["col"]): s for s in truth["sites"] if s["file"] in files}
    positive = {k for k, s in sites.items() if s["positive"]}
    pos_lines = {(k[0], k[1]) for k in positive}

    scored, ignored = [], collections.Counter()
    for f in findings:
        if f[0] not in files:
            ignored["file not compiled"] += 1
        elif any(a <= f[1] <= b for a, b in skip.get(f[0], ())):
            ignored["function not analysed by the compiler"] += 1
        else:
            scored.append(f)
    found = {(f[0], f[1], f[2]) for f in scored}
    tp = found & positive
    fp_kinds = collections.Counter()
    fps = []
    for k in sorted(found - positive):
        s = sites.get(k)
        why = ("escapes-not-via-result" if s is not None and s["escapes"]
               else "other-column" if (k[0], k[1]) in pos_lines else "no-escape")
        fp_kinds[why] += 1
        fps.append((k, why))
    fn = sorted(positive - found)
    fn_kinds = collections.Counter(sites[k]["kind"] for k in fn)
    fn_cats = collections.Counter(f'{sites[k]["kind"]}/{sites[k]["category"]}' for k in fn)
    tot_kinds = collections.Counter(sites[k]["kind"] for k in positive)
    p = len(tp) / len(found) if found else 1.0
    r = len(tp) / len(positive) if positive else 1.0
    actionable = {k for k in positive if sites[k].get("actionable")}
    atp = found & actionable
    ap = len(atp) / len(found) if found else 1.0
    ar = len(atp) / len(actionable) if actionable else 1.0
    return {
        "truth_positive": len(positive), "findings": len(findings), "scored": len(found),
        "ignored": dict(ignored), "tp": len(tp), "fp": len(found - positive), "fn": len(fn),
        "precision": round(p, 4), "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "fp_by_reason": dict(fp_kinds.most_common()),
        # actionable: the function allocates at run time (the compiler does not inline it, or an
        # inlined copy escapes at a call site), so returning a value would remove an allocation
        "truth_actionable": len(actionable), "actionable_tp": len(atp),
        "actionable_precision": round(ap, 4), "actionable_recall": round(ar, 4),
        "inlined_not_escaping": len(tp - actionable),
        "fn_by_kind": {k: f"{fn_kinds[k]}/{tot_kinds[k]}" for k in sorted(tot_kinds)},
        "fn_by_category": dict(fn_cats.most_common()),
        "_fp": fps, "_fn": [(k, sites[k]) for k in fn], "_inlined": sorted(tp - actionable),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--findings", required=True, help="cnlint JSON or SARIF output")
    ap.add_argument("--root", default=".", help="where relative finding paths are resolved")
    ap.add_argument("--rule", default="PERF001")
    ap.add_argument("--show", type=int, default=0, help="print this many false positives and negatives")
    ap.add_argument("--exclude", nargs="*", default=None,
                    help="directory names whose files cnlint does not lint (default: cnlint's default "
                         "excludes, so vendor/, testdata/, build/... are left out of the truth too)")
    ap.add_argument("--json", help="write the scores here")
    args = ap.parse_args(argv)
    with open(args.truth, encoding="utf-8") as f:
        truth = json.load(f)
    exclude = args.exclude
    if exclude is None:
        try:
            from cnlint.config import DEFAULT_EXCLUDE as exclude
        except ImportError:
            exclude = ("vendor", "testdata")
    files = linted(truth["files"], os.path.abspath(args.root), set(exclude))
    res = score(truth, load_findings(args.findings, args.rule, os.path.abspath(args.root)), files)
    res["files"] = len(files)
    public = {k: v for k, v in res.items() if not k.startswith("_")}
    print(json.dumps(public, indent=2))
    if args.show:
        base = truth.get("dir", "")
        rel = (lambda p: os.path.relpath(p, base)) if base else (lambda p: p)
        print("\nfalse positives:")
        for (p, line, col), why in res["_fp"][: args.show]:
            print(f"  {rel(p)}:{line}:{col}: {why}")
        print("\nfalse negatives:")
        for (p, line, col), s in res["_fn"][: args.show]:
            print(f"  {rel(p)}:{line}:{col}: {s['kind']} {s['what']} ({s['category']}) in {s['func']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(public, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
