#!/usr/bin/env python3
"""ESM001's accuracy against real Node on real npm packages.

    python benchmarks/esm/accuracy.py [--node PATH] [--all-installed] [--out benchmarks/esm/RESULTS.md]

Run it with the interpreter that has cnlint installed (the project's venv).
It installs the pinned packages below into benchmarks/corpora/esm/ (gitignored;
one ``npm install --ignore-scripts``), then for every package (and subpath):

* asks Node: ``node -e "require('X')"`` with ``--no-experimental-require-module``
  (no require(esm): the Node 18 / 20.0-20.18 / 22.0-22.11 behaviour) and
  without it (require(esm) on: Node 20.19+ / 22.12+ / 23+);
* asks the rule: a file ``require('X');`` in the same project, linted with
  ``node-version`` set to the running Node's version (and
  ``require-module = "off"`` for the flagged run);
* with require(esm) on, where ``require('X')`` returns an ES module namespace:
  ``require('X')()`` throws a TypeError on Node, and the rule must warn.

A "positive" is a require() that throws one of ERR_REQUIRE_ESM,
ERR_REQUIRE_ASYNC_MODULE, ERR_PACKAGE_PATH_NOT_EXPORTED (an ``exports`` with
only an ``import`` entry) or a SyntaxError from module syntax; the rule
predicts a positive when it reports an error. A prediction also counts as
correct only if it names Node's error code. Requires that fail for other
reasons (a types-only package, a package without a root export) are listed
apart and never count. ``--all-installed`` also checks every package npm
installed as a dependency of the listed ones (several hundred).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(REPO, "benchmarks", "corpora", "esm")

#: alias -> pinned npm spec, and what the package is (for the report)
PACKAGES: dict[str, tuple[str, str]] = {
    # ESM-only ("type": "module", no require entry)
    "chalk": ("5.6.2", "esm"), "boxen": ("7.1.1", "esm"), "ora": ("8.2.0", "esm"), "execa": ("8.0.1", "esm"),
    "got": ("14.6.6", "esm"), "node-fetch": ("3.3.2", "esm"), "nanoid": ("5.1.16", "esm"),
    "p-limit": ("6.2.0", "esm"), "p-queue": ("8.1.1", "esm"), "globby": ("14.1.0", "esm"),
    "find-up": ("7.0.0", "esm"), "strip-ansi": ("7.2.0", "esm"), "string-width": ("7.2.0", "esm"),
    "wrap-ansi": ("9.0.2", "esm"), "ansi-styles": ("6.2.3", "esm"), "escape-string-regexp": ("5.0.0", "esm"),
    "camelcase": ("8.0.0", "esm"), "figures": ("6.1.0", "esm"), "log-symbols": ("6.0.0", "esm"),
    "open": ("10.2.0", "esm"), "inquirer": ("9.3.8", "esm"), "env-paths": ("3.0.0", "esm"),
    "meow": ("13.2.0", "esm"), "ky": ("1.14.3", "esm"), "unified": ("11.0.5", "esm"), "vfile": ("6.0.3", "esm"),
    "pretty-bytes": ("6.1.1", "esm"), "pretty-ms": ("9.3.1", "esm"), "serialize-error": ("11.0.3", "esm"),
    "p-map": ("7.1.1", "esm"), "get-stream": ("9.0.1", "esm"), "lowdb": ("7.0.1", "esm"), "mime": ("4.1.2", "esm"),
    "lodash-es": ("4.18.1", "esm"), "dot-prop": ("9.0.0", "esm"), "cli-cursor": ("5.0.0", "esm"),
    "log-update": ("6.1.0", "esm"), "clipboardy": ("4.0.0", "esm"), "terminal-link": ("3.0.0", "esm"),
    "del": ("8.0.1", "esm"), "@octokit/rest": ("21.1.1", "esm"),
    # ESM with "exports" for import only
    "@alcalzone/ansi-tokenize": ("0.1.3", "esm, import-only exports"),
    # ES module graphs with top-level await
    "yoga-layout": ("3.2.1", "esm, top-level await"), "ink": ("5.2.1", "esm, top-level await via yoga-layout"),
    # dual (a require entry), many with "type": "module"
    "uuid": ("11.1.1", "dual"), "yargs": ("17.7.3", "dual"), "zod": ("3.25.76", "dual"),
    "date-fns": ("4.4.0", "dual"), "axios": ("1.21.1", "dual"), "nanoid3": ("npm:nanoid@3.3.20", "dual"),
    "ws": ("8.23.0", "dual"), "commander": ("12.1.0", "dual"), "graphql": ("16.15.0", "dual"),
    "rxjs": ("7.8.2", "dual"), "tslib": ("2.9.1", "dual"), "immer": ("10.2.0", "dual"), "kleur": ("4.1.5", "dual"),
    "colorette": ("2.0.20", "dual"), "preact": ("10.29.8", "dual"), "marked": ("12.0.2", "dual"),
    "tinyglobby": ("0.2.17", "dual"), "valibot": ("0.42.1", "dual"), "hono": ("4.13.19", "dual"),
    "async-function": ("1.0.0", "dual, module-sync"),
    # CommonJS, including the last CommonJS majors of ESM-only packages
    "react": ("18.3.1", "cjs"), "dayjs": ("1.11.23", "cjs"), "chalk4": ("npm:chalk@4.1.2", "cjs"),
    "execa5": ("npm:execa@5.1.1", "cjs"), "got11": ("npm:got@11.8.6", "cjs"),
    "node-fetch2": ("npm:node-fetch@2.7.0", "cjs"), "ora5": ("npm:ora@5.4.1", "cjs"),
    "boxen5": ("npm:boxen@5.1.2", "cjs"), "inquirer8": ("npm:inquirer@8.2.7", "cjs"),
    "strip-ansi6": ("npm:strip-ansi@6.0.1", "cjs"), "p-limit3": ("npm:p-limit@3.1.0", "cjs"),
    "lodash": ("4.18.1", "cjs"), "semver": ("7.8.6", "cjs"), "picocolors": ("1.1.1", "cjs"),
    "express": ("4.22.3", "cjs"), "debug": ("4.4.3", "cjs"), "fs-extra": ("11.4.1", "cjs"),
    "mime3": ("npm:mime@3.0.0", "cjs"), "find-up5": ("npm:find-up@5.0.0", "cjs"), "uuid8": ("npm:uuid@8.3.2", "cjs"),
}
#: subpaths of the packages above (exports patterns, nested package.json files)
SUBPATHS = ["date-fns/format", "date-fns/locale", "rxjs/operators", "lodash/fp", "preact/hooks",
            "react/jsx-runtime", "nanoid3/non-secure", "zod/v4", "yargs/helpers", "uuid/package.json",
            "hono/utils/mime", "graphql/language", "ink/package.json", "lodash-es/chunk.js"]
ESM_CODES = ("ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE", "ERR_PACKAGE_PATH_NOT_EXPORTED", "SyntaxError")

PROBE = r"""
const name = process.argv[1];
let out;
try {
  const m = require(name);
  const ns = m !== null && typeof m === "object" && Object.getPrototypeOf(m) === null
    && Object.prototype.toString.call(m) === "[object Module]";
  out = { status: ns ? "namespace" : "ok" };
} catch (e) {
  out = { status: "throws", code: e.code || e.name };
}
// "not exported" is an ESM failure only when import() can load what require() cannot
const check = out.code === "ERR_PACKAGE_PATH_NOT_EXPORTED"
  ? import(name).then(() => { out.importable = true; }, () => { out.importable = false; }) : Promise.resolve();
check.then(() => { console.log(JSON.stringify(out)); setTimeout(() => process.exit(0), 0); });
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def install(node: str) -> None:
    os.makedirs(WORK, exist_ok=True)
    pj = {"name": "esm-accuracy", "version": "1.0.0", "private": True,
          "dependencies": {k: v for k, (v, _) in PACKAGES.items()}}
    path = os.path.join(WORK, "package.json")
    text = json.dumps(pj, indent=2) + "\n"
    marker = os.path.join(WORK, "node_modules", ".esm-accuracy.json")
    if os.path.isfile(marker) and open(marker).read() == text:
        return
    with open(path, "w") as f:
        f.write(text)
    npm = shutil.which("npm") or os.path.join(os.path.dirname(node), "npm")
    log(f"npm install of {len(PACKAGES)} packages into {WORK} ...")
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                   cwd=WORK, check=True)
    with open(marker, "w") as f:
        f.write(text)


def installed_packages() -> list[str]:
    out = []
    nm = os.path.join(WORK, "node_modules")
    for name in sorted(os.listdir(nm)):
        if name.startswith("."):
            continue
        if name.startswith("@"):
            out += [f"{name}/{sub}" for sub in sorted(os.listdir(os.path.join(nm, name)))]
        else:
            out.append(name)
    return out


def node_require(node: str, name: str, flag: bool) -> dict:
    args = [node] + (["--no-experimental-require-module"] if flag else []) + ["-e", PROBE, name]
    try:
        proc = subprocess.run(args, cwd=WORK, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{"status"')]
    return json.loads(lines[-1]) if lines else {"status": "no-output", "stderr": proc.stderr[-300:]}


def node_call_throws_type_error(node: str, name: str) -> bool:
    code = f"try {{ require({name!r})(); }} catch (e) {{ console.log(e.name); }}"
    proc = subprocess.run([node, "-e", code], cwd=WORK, capture_output=True, text=True, timeout=60)
    return "TypeError" in proc.stdout


class Linter:
    def __init__(self, node_version: str, flag_supported: bool = True):
        self.flag_supported = flag_supported
        sys.path.insert(0, REPO)
        from cnlint.config import Config
        from cnlint.engine import Engine, resolve_selection
        from cnlint.loader import load_rules

        registry = load_rules()
        self.engines = {}
        for flag in (True, False):
            opts = {"node-version": node_version}
            if flag:
                opts["require-module"] = "off"
            cfg = Config(options={"ESM001": opts}, root=WORK)
            self.engines[flag] = Engine(cfg, registry, resolve_selection(cfg, registry, select=["ESM001"]), cwd=WORK)
        self.probes = os.path.join(WORK, "probes")
        os.makedirs(self.probes, exist_ok=True)

    def lint(self, source: str, flag: bool, tag: str) -> list:
        path = os.path.join(self.probes, tag + ".js")
        with open(path, "w") as f:
            f.write(source)
        result = self.engines[flag].check(path, "javascript")
        if result.notices:
            raise RuntimeError(result.notices)
        return result.findings


def predicted(findings) -> str:
    errors = [f for f in findings if f.severity.value == "error"]
    if not errors:
        return "warning" if findings else "ok"
    return next((c for c in ESM_CODES if c in errors[0].message), "error")


def evaluate(node: str, names: list[str], linter: Linter) -> list[dict]:
    rows: list[dict] = []

    def one(args):
        name, flag = args
        return name, flag, node_require(node, name, flag)

    flags = (True, False) if linter.flag_supported else (False,)
    jobs = [(n, f) for n in names for f in flags]
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=2) as ex:
        real = {(n, f): r for n, f, r in ex.map(one, jobs)}
    log(f"{len(jobs)} node runs in {time.time() - t0:.0f}s")
    for i, name in enumerate(names):
        tag = f"p{i}"
        for flag in flags:
            r = real[(name, flag)]
            t1 = time.perf_counter()
            findings = linter.lint(f"require({name!r});\n", flag, f"{tag}{'-off' if flag else ''}")
            dt = time.perf_counter() - t1
            pred = predicted(findings)
            actual = r.get("code") if r["status"] == "throws" else r["status"]
            if actual == "ERR_PACKAGE_PATH_NOT_EXPORTED" and not r.get("importable"):
                actual = "not-exported"  # not an ESM problem: import() fails too
            row = {"name": name, "flag": flag, "actual": actual, "predicted": pred, "ms": dt * 1000}
            if r["status"] == "namespace" and not flag:
                want_warning = node_call_throws_type_error(node, name)
                got = linter.lint(f"require({name!r})();\n", flag, f"{tag}-call")
                row["call_actual"] = "TypeError" if want_warning else "ok"
                row["call_predicted"] = "warning" if got and got[0].severity.value == "warning" else (
                    predicted(got))
            rows.append(row)
    return rows


def score(rows: list[dict], flag: bool) -> dict:
    tp = fp = fn = tn = code_ok = other = 0
    misses, false_pos, excluded = [], [], []
    for r in rows:
        if r["flag"] != flag:
            continue
        actual_pos = r["actual"] in ESM_CODES
        pred_pos = r["predicted"] in ESM_CODES or r["predicted"] == "error"
        if not actual_pos and r["actual"] not in ("ok", "namespace"):
            other += 1
            excluded.append(f"{r['name']} ({r['actual']})")
            if pred_pos:
                fp += 1
                false_pos.append(r["name"])
            continue
        if actual_pos and pred_pos:
            tp += 1
            code_ok += r["predicted"] == r["actual"]
            if r["predicted"] != r["actual"]:
                misses.append(f"{r['name']} (Node {r['actual']}, rule {r['predicted']})")
        elif actual_pos:
            fn += 1
            misses.append(f"{r['name']} (Node {r['actual']}, rule {r['predicted']})")
        elif pred_pos:
            fp += 1
            false_pos.append(f"{r['name']} (rule {r['predicted']})")
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
            "code_ok": code_ok, "other": other, "misses": misses, "false_pos": false_pos, "excluded": excluded}


def warn_score(rows: list[dict]) -> dict:
    tp = fp = fn = tn = 0
    for r in rows:
        if "call_actual" not in r:
            continue
        a, p = r["call_actual"] == "TypeError", r["call_predicted"] == "warning"
        tp += a and p
        fp += p and not a
        fn += a and not p
        tn += not a and not p
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn}


def report(rows, node_version, names, extra, elapsed) -> str:
    off, on = score(rows, True), score(rows, False)
    flagged = any(r["flag"] for r in rows)
    w = warn_score(rows)
    kinds: dict[str, int] = {}
    for n in PACKAGES:
        k = PACKAGES[n][1].split(",")[0]
        kinds[k] = kinds.get(k, 0) + 1
    lines = [
        "# ESM001 accuracy against real Node",
        "",
        f"Generated by `python benchmarks/esm/accuracy.py{extra}` on {_dt.date.today().isoformat()}, "
        f"Node {node_version}, {platform.system()} {platform.machine()}, Python {platform.python_version()}.",
        "",
        f"{len(names)} specifiers: {len(PACKAGES)} pinned packages ("
        + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
        + f"), {len(SUBPATHS)} subpaths"
        + (f", and {len(names) - len(PACKAGES) - len(SUBPATHS)} more packages npm installed as dependencies"
           if len(names) > len(PACKAGES) + len(SUBPATHS) else "")
        + (". Each is required on Node with and without `--no-experimental-require-module`, and linted as "
           "`require('X');` with `node-version` set to that Node (and `require-module = \"off\"` for the "
           "flagged run)." if flagged else
           ". Each is required on Node, and linted as `require('X');` with `node-version` set to that Node."),
        "",
    ]
    if not flagged:
        lines += [f"(Node {node_version} has no `--no-experimental-require-module`: default run only.)", ""]
    lines += [
        "| run | positives (Node throws) | TP | FP | FN | TN | precision | recall | error code named right |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    default_label = "default" + (" (require(esm) on)" if any(r["actual"] == "namespace" for r in rows)
                                 else " (no require(esm) in this Node)")
    for label, s in ((("`--no-experimental-require-module`", off),) if flagged else ()) + ((default_label, on),):
        lines.append(f"| {label} | {s['tp'] + s['fn']} | {s['tp']} | {s['fp']} | {s['fn']} | {s['tn']} | "
                     f"{s['precision']:.3f} | {s['recall']:.3f} | {s['code_ok']}/{s['tp']} |")
    lines += [
        "",
        f"CommonJS-style use with require(esm) on (`require('X')()` where require returns a namespace): "
        f"Node throws a TypeError in {w['tp'] + w['fn']} cases; the rule warns in {w['tp']} of them "
        f"and in {w['fp']} others.",
        "",
        "Not counted (require fails for reasons that are not ESM: types-only packages, no root export): "
        + (f"{off['other']} with the flag, {on['other']} without." if flagged else f"{on['other']}."),
    ]
    for label, s in (("without require(esm)", off), ("with require(esm)", on)):
        if s["misses"] or s["false_pos"]:
            lines += ["", f"Disagreements {label}:"]
            lines += [f"- missed or wrong code: {m}" for m in s["misses"]]
            lines += [f"- false positive: {m}" for m in s["false_pos"]]
    ms = sorted(r["ms"] for r in rows)
    lines += ["", f"Rule time per probe file (cold caches for each package): median {ms[len(ms) // 2]:.1f} ms, "
              f"max {ms[-1]:.1f} ms; whole run {elapsed:.0f} s.", ""]
    lines += ["<details><summary>Per package</summary>", "",
              "| specifier | kind | Node `--no-experimental-require-module` | rule | Node default | rule |", "|---|---|---|---|---|---|"]
    by = {(r["name"], r["flag"]): r for r in rows}
    for n in names:
        b = by[(n, False)]
        a = by.get((n, True), {"actual": "-", "predicted": "-"})
        kind = PACKAGES.get(n, ("", "subpath" if n in SUBPATHS else "dependency"))[1]
        lines.append(f"| `{n}` | {kind} | {a['actual']} | {a['predicted']} | {b['actual']} | {b['predicted']} |")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--node", default=shutil.which("node"), help="the node binary (default: node on PATH)")
    ap.add_argument("--all-installed", action="store_true", help="also every package installed as a dependency")
    ap.add_argument("--out", help="write the markdown report here (e.g. benchmarks/esm/RESULTS.md)")
    args = ap.parse_args()
    if not args.node:
        log("no node found: put node on PATH or pass --node")
        return 2
    node_version = subprocess.run([args.node, "-p", "process.versions.node"], capture_output=True, text=True,
                                  check=True).stdout.strip()
    t0 = time.time()
    install(args.node)
    names = list(PACKAGES) + SUBPATHS
    if args.all_installed:
        names += [n for n in installed_packages() if n not in PACKAGES]
    # --no-experimental-require-module exists from Node 20.17 / 22.0
    flag_ok = subprocess.run([args.node, "--no-experimental-require-module", "-e", "0"],
                             capture_output=True).returncode == 0
    linter = Linter(node_version, flag_ok)
    rows = evaluate(args.node, names, linter)
    extra = (" --all-installed" if args.all_installed else "") + (
        f" --node <Node {node_version}>" if args.node != shutil.which("node") else "")
    text = report(rows, node_version, names, extra, time.time() - t0)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    off, on = score(rows, True), score(rows, False)
    if not flag_ok:
        off = on
    return 0 if min(off["precision"], off["recall"], on["precision"], on["recall"]) >= 0.98 else 1


if __name__ == "__main__":
    sys.exit(main())
