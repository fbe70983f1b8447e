#!/usr/bin/env python3
"""The real-world precision ledger: cnlint on public repositories, scored by labels.

    python benchmarks/ledger/ledger.py fetch   [--mirrors DIR] [--corpus DIR]
    python benchmarks/ledger/ledger.py run     [--corpus DIR] [--out DIR] [--cnlint CMD]
    python benchmarks/ledger/ledger.py compare [--out DIR] [--write-results]
    python benchmarks/ledger/ledger.py todo RULE [--out DIR]

``fetch`` materialises manifest.toml's repositories at their pinned commits
outside git (default ``~/.cache/cnlint-ledger/src``). ``run`` lints each one
twice, with the defaults and with every rule on (``--select ALL``), and keeps
the JSON reports. ``compare`` matches every finding with the labels in
labels/<RULE>.toml (key: repository, path, rule, fingerprint) and prints, per
rule, the findings with the defaults and with every rule, the labelled verdicts,
the precision (debatable counts as false), findings per 100k lines, and the
findings no label has seen. ``todo`` prints the unlabelled findings of one rule
as label entries to fill in.

A rule is on by default only if its ledger precision is at least 0.9
(docs/precision/ledger.md).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from materialize import materialise  # noqa: E402

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cnlint-ledger"
SOURCE_SUFFIXES = (".go", ".py", ".pyi", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
PRECISION_FOR_DEFAULT = 0.9
# Below this many judged findings one verdict moves precision by 0.2 or more:
# the ledger cannot tell, and the rule keeps the default its fixtures support.
MIN_JUDGED = 5
RUNS = {"defaults": [], "all": ["--select", "ALL"]}
VERDICTS = ("true", "false", "debatable")


def manifest() -> list[dict]:
    with open(HERE / "manifest.toml", "rb") as f:
        return tomllib.load(f)["repo"]


def folder(repo: str) -> str:
    return repo.replace("/", "+")


def labels() -> dict[tuple[str, str, str, str], dict]:
    out = {}
    for path in sorted((HERE / "labels").glob("*.toml")):
        with open(path, "rb") as f:
            for entry in tomllib.load(f).get("finding", []):
                rule = entry.get("rule", path.stem)
                if entry["verdict"] not in VERDICTS:
                    raise SystemExit(f"{path}: verdict {entry['verdict']!r} is not one of {VERDICTS}")
                out[(entry["repo"], entry["path"], rule, entry["fingerprint"])] = entry
    return out


# ---- fetch ----

def cmd_fetch(args) -> None:
    mirrors = Path(args.mirrors) if args.mirrors else None
    for repo in manifest():
        into = Path(args.corpus) / folder(repo["name"])
        m = materialise(repo["name"], repo["commit"], into, mirrors)
        note = f", {m.missing} large blobs absent from the mirror" if m.missing else ""
        print(f"{repo['name']:45} {repo['commit'][:12]}  {m.files} files{note}")


# ---- run ----

def source_lines(root: Path) -> int:
    """Lines of Go/TS/JS/Python outside the folders cnlint excludes by default."""
    from cnlint.config import DEFAULT_EXCLUDE

    skip = set(DEFAULT_EXCLUDE)
    n = 0
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in skip]
        for name in files:
            if name.endswith(SOURCE_SUFFIXES):
                with open(os.path.join(d, name), "rb") as f:
                    n += f.read().count(b"\n")
    return n


def cmd_run(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cnlint = shlex.split(args.cnlint)
    for repo in manifest():
        if args.only and repo["name"] not in args.only:
            continue
        root = Path(args.corpus) / folder(repo["name"])
        if not root.is_dir():
            raise SystemExit(f"{root} is missing: run `ledger.py fetch` first")
        meta = {"repo": repo["name"], "commit": repo["commit"], "lines": source_lines(root)}
        for run, extra in RUNS.items():
            cmd = [*cnlint, "check", "--isolated", "--no-cache", "--exit-zero", "--format", "json", *extra, "."]
            proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
            try:
                doc = json.loads(proc.stdout)
            except json.JSONDecodeError:
                raise SystemExit(f"{repo['name']}: {shlex.join(cmd)} exited {proc.returncode}\n{proc.stderr}")
            if proc.returncode != 0:  # a rule crashed on a file: its findings elsewhere still count
                print(f"{repo['name']}: exit {proc.returncode}: {proc.stderr.strip()}", file=sys.stderr)
            (out / f"{folder(repo['name'])}.{run}.json").write_text(proc.stdout)
            meta[run] = {"findings": len(doc["findings"]), "files": doc["summary"]["files"],
                         "generated": doc["summary"].get("generated", 0),
                         "errors": [n["message"] for n in doc["notices"] if n["kind"] != "skipped"]}
        (out / f"{folder(repo['name'])}.meta.json").write_text(json.dumps(meta))
        print(f"{repo['name']:45} {meta['lines']:>8} lines  defaults {meta['defaults']['findings']:>5}"
              f"  all {meta['all']['findings']:>6}")


# ---- compare ----

def findings(out: Path, run: str):
    """(repo, finding) for every finding of ``run``, keyed like the labels."""
    for repo in manifest():
        path = out / f"{folder(repo['name'])}.{run}.json"
        for f in json.loads(path.read_text())["findings"]:
            key = (repo["name"], f["path"], f["rule_id"], f["fingerprint"].split(":", 1)[0])
            yield key, f


def score(out: Path, known: dict) -> dict:
    rules: dict[str, dict] = collections.defaultdict(lambda: collections.Counter())
    unseen = []
    for run in RUNS:
        for key, f in findings(out, run):
            c = rules[key[2]]
            c[run] += 1
            label = known.get(key)
            if run != "all":
                c[f"{run} {label['verdict'] if label else 'unlabelled'}"] += 1
                continue
            c[label["verdict"] if label else "unlabelled"] += 1
            if not label:
                unseen.append((key, f))
    return {"rules": rules, "unseen": unseen}


def precision(c) -> float | None:
    judged = sum(c[v] for v in VERDICTS)
    return c["true"] / judged if judged else None


def decision(c) -> str:
    """What the ledger says about a rule's default: on, opt-in, or too few findings to tell."""
    judged = sum(c[v] for v in VERDICTS)
    if judged < MIN_JUDGED:
        return f"too few ({judged})"
    return "on" if precision(c) >= PRECISION_FOR_DEFAULT else "opt-in"


def table(out: Path, known: dict) -> tuple[str, list, list]:
    s = score(out, known)
    metas = [json.loads((out / f"{folder(r['name'])}.meta.json").read_text()) for r in manifest()]
    lines = sum(m["lines"] for m in metas)
    from cnlint.config import Config
    from cnlint.runner import load

    registry, _ = load(Config(plugins=[]))  # the built-in rules, as `cnlint rules` lists them
    rows = ["| rule | on by default | ledger says | severity | test code | defaults | every rule on | true | false "
            "| debatable | unlabelled | precision | per 100k lines (defaults) |", "|---" * 13 + "|"]
    disagree = []
    for rid in sorted(set(s["rules"]) | set(registry.rules)):
        c = s["rules"].get(rid, collections.Counter())
        info = registry.rules.get(rid)
        on = "yes" if info is None or info.meta.enabled_by_default else "no"
        skip = info and info.meta.options.get("skip-test-files")
        tests = "-" if info is None else "linted" if skip is None or not skip.default else "skipped"
        severity = info.meta.severity if info else "-"
        p = precision(c)
        says = decision(c)
        if (says, on) in (("on", "no"), ("opt-in", "yes")):
            disagree.append(f"{rid} is {'on' if on == 'yes' else 'off'} by default but the ledger says {says}")
        rows.append(f"| {rid} | {on} | {says} | {severity} | {tests} | {c['defaults']} | {c['all']} | {c['true']} | {c['false']} "
                    f"| {c['debatable']} | {c['unlabelled']} | {'-' if p is None else f'{p:.2f}'} "
                    f"| {100_000 * c['defaults'] / lines:.2f} |")
    total = collections.Counter()
    for c in s["rules"].values():
        total.update(c)
    generated = sum(m["defaults"]["generated"] for m in metas)
    head = (f"{len(metas)} repositories, {lines:,} lines of Go/TypeScript/JavaScript/Python; "
            f"with the defaults {total['defaults']} findings ({100_000 * total['defaults'] / lines:.1f} per "
            f"100k lines), {generated} generated files not linted; with every rule on {total['all']} findings. "
            f"Precision of the default output: {total['defaults true']} true of {total['defaults']} "
            f"({total['defaults false']} false, {total['defaults debatable']} debatable, "
            f"{total['defaults unlabelled']} unlabelled).")
    return head + "\n\n" + "\n".join(rows), s["unseen"], disagree


def cmd_compare(args) -> None:
    out = Path(args.out)
    text, unseen, disagree = table(out, labels())
    print(text)
    for line in disagree:
        print(f"DEFAULT DISAGREES WITH THE LEDGER: {line}")
    if unseen:
        print(f"\n{len(unseen)} findings the ledger has not seen:")
        for (repo, path, rule, _fp), f in unseen:
            print(f"  {rule} {repo}:{path}:{f['start']['line']}: {f['message'][:110]}")
    if args.write_results:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        results = HERE / "RESULTS.md"
        old = results.read_text() if results.exists() else "# Precision ledger results\n"
        head, _, rest = old.partition("\n## ")
        title = f"{stamp}: {args.title}" if args.title else stamp
        section = f"## {title} ({machine})\n\n{text}\n\nUnlabelled findings: {len(unseen)}.\n"
        results.write_text(head.rstrip() + "\n\n" + section + ("\n## " + rest if rest else ""))
    if args.strict and (unseen or disagree):
        sys.exit(1)


def cmd_todo(args) -> None:
    _, unseen, _ = table(Path(args.out), labels())
    for (repo, path, rule, fp), f in unseen:
        if rule != args.rule:
            continue
        print(f'[[finding]]\nrepo = "{repo}"\npath = "{path}"\nline = {f["start"]["line"]}\n'
              f'fingerprint = "{fp}"\nverdict = ""\nreason = ""  # {f["message"][:100]}\n')


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    corpus = dict(default=str(CACHE / "src"), help="where the repositories are materialised")
    results = dict(default=str(CACHE / "out"), help="where the JSON reports go")
    f = sub.add_parser("fetch", help="materialise the repositories at their pinned commits")
    f.add_argument("--mirrors", help="folder of git mirrors named owner+name (default: clone from GitHub)")
    f.add_argument("--corpus", **corpus)
    r = sub.add_parser("run", help="lint every repository with the defaults and with every rule")
    r.add_argument("--corpus", **corpus)
    r.add_argument("--out", **results)
    r.add_argument("--cnlint", default=f"{shlex.quote(sys.executable)} -m cnlint",
                   help="the command to run (to score another version)")
    r.add_argument("--only", nargs="+", metavar="OWNER/NAME", help="run only these repositories")
    c = sub.add_parser("compare", help="score the reports against the labels")
    c.add_argument("--out", **results)
    c.add_argument("--write-results", action="store_true", help="prepend the table to RESULTS.md")
    c.add_argument("--title", help="what was scored, for the RESULTS.md heading (e.g. a commit)")
    c.add_argument("--strict", action="store_true",
                   help="exit 1 when a finding has no label or a default disagrees with the ledger")
    t = sub.add_parser("todo", help="print label entries to fill in for one rule's unlabelled findings")
    t.add_argument("rule")
    t.add_argument("--out", **results)
    args = p.parse_args()
    {"fetch": cmd_fetch, "run": cmd_run, "compare": cmd_compare, "todo": cmd_todo}[args.cmd](args)


if __name__ == "__main__":
    main()
