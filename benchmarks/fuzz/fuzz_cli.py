"""Mutation fuzzing of the whole CLI on real files.

Takes seed files (the rule fixtures, the demo project, and any directories
given with ``--corpus``, for example the Go or Python standard library),
mutates them at the byte, line and token level, and runs the installed
``cnlint`` on batches of mutants, as a user would:

1. ``cnlint check --isolated --select ALL --no-cache --format json``: the exit
   code must be 0 or 1, stderr must hold no traceback, stdout must be valid
   UTF-8 JSON, and no rule may have crashed (an ``internal-error`` notice) or
   been stopped by ``rule-timeout``;
2. ``cnlint check --fix --unsafe-fixes`` on a copy: same conditions, and no
   fixed file may have more syntax errors (CN001) than before the fix.

A failing batch is bisected down to the file that fails and the file is kept
in ``--crash-dir``. Prints one line per batch and a summary; exits 1 when
anything failed. Deterministic for a given ``--seed``.

    python benchmarks/fuzz/fuzz_cli.py --mutants 2000 --seed 1
    python benchmarks/fuzz/fuzz_cli.py --corpus /usr/lib/python3.11 --mutants 500

The test suite runs a short run (tests/test_fuzz.py); recorded runs are in
benchmarks/fuzz/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXTENSIONS = (".go", ".py", ".ts", ".tsx", ".js", ".mjs", ".cjs", ".mts", ".cts", ".jsx")
MAX_SEED_BYTES = 200_000
_TOKEN = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*|0x[0-9a-fA-F]+|[0-9]+|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'"
                    rb"|`[^`]*`|:=|==|!=|<=|>=|&&|\|\||=>|\.\.\.|[^\sA-Za-z0-9_]")
_OPENERS = [b"(", b"[", b"{"]
_CLOSERS = {b"(": b")", b"[": b"]", b"{": b"}"}
_ODD_BYTES = [b"\0", b"\r", b"\xff", b"\xc3", b"\xe2\x80\xae", b"\x1b[31m", b"\n::warning::x\n", b"\t", b"\\",
              b"\xef\xbb\xbf", "\u2028".encode(), "😀".encode()]


# ---- mutations: each takes the data, an RNG and donor files, returns new bytes ----

def _span(data: bytes, rng: random.Random, most: int = 64) -> tuple[int, int]:
    a = rng.randrange(len(data) + 1)
    return a, min(len(data), a + rng.randrange(most + 1))


def flip_byte(data, rng, donors):
    if not data:
        return b"\0"
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]


def insert_odd(data, rng, donors):
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(_ODD_BYTES) + data[i:]


def delete_span(data, rng, donors):
    a, b = _span(data, rng)
    return data[:a] + data[b:]


def duplicate_span(data, rng, donors):
    a, b = _span(data, rng)
    return data[:b] + data[a:b] * rng.randint(1, 4) + data[b:]


def splice_donor(data, rng, donors):
    other = rng.choice(donors)
    a, b = _span(other, rng, 400)
    i = rng.randrange(len(data) + 1)
    return data[:i] + other[a:b] + data[i:]


def _lines(data):
    return data.splitlines(keepends=True) or [b""]


def delete_line(data, rng, donors):
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def duplicate_line(data, rng, donors):
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.choice([1, 2, 50, 1200])  # the last one: long elif/case chains
    return b"".join(lines)


def swap_lines(data, rng, donors):
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def change_line_endings(data, rng, donors):
    return data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n"]))


def _tokens(data):
    return [m.span() for m in _TOKEN.finditer(data)]


def replace_token(data, rng, donors):
    toks = _tokens(data)
    if not toks:
        return insert_odd(data, rng, donors)
    a, b = rng.choice(toks)
    c, d = rng.choice(toks)
    return data[:a] + data[c:d] + data[b:]


def delete_token(data, rng, donors):
    toks = _tokens(data)
    if not toks:
        return data
    a, b = rng.choice(toks)
    return data[:a] + data[b:]


def repeat_token(data, rng, donors):
    toks = _tokens(data)
    if not toks:
        return data
    a, b = rng.choice(toks)
    return data[:b] + data[a:b] * rng.choice([2, 10, 600]) + data[b:]


def nest_deeply(data, rng, donors):
    """Wrap a point of the file in hundreds or thousands of brackets."""
    i = rng.randrange(len(data) + 1)
    opener = rng.choice(_OPENERS)
    n = rng.choice([100, 1000, 3000])
    return data[:i] + opener * n + data[i:i + 8] + _CLOSERS[opener] * n + data[i + 8:]


def truncate(data, rng, donors):
    return data[:rng.randrange(len(data) + 1)]


MUTATORS = (flip_byte, insert_odd, delete_span, duplicate_span, splice_donor, delete_line, duplicate_line,
            swap_lines, change_line_endings, replace_token, delete_token, repeat_token, nest_deeply, truncate)


def mutate(data: bytes, rng: random.Random, donors: list[bytes], rounds: int | None = None) -> bytes:
    """One to three mutations (token-level ones most often: they keep files almost valid)."""
    weights = [1, 2, 1, 1, 1, 1, 1, 1, 0.3, 4, 3, 1, 0.3, 0.3]
    for mutator in rng.choices(MUTATORS, weights, k=rounds or rng.randint(1, 3)):
        data = mutator(data, rng, donors)
    return data


# ---- seeds ----

def seed_files(dirs: list[str], limit: int | None = None, rng: random.Random | None = None) -> list[tuple[str, bytes]]:
    out = []
    for top in dirs:
        for d, subdirs, files in os.walk(top):
            subdirs[:] = sorted(s for s in subdirs if s not in ("node_modules", ".git", "__pycache__"))
            for f in sorted(files):
                if f.endswith(EXTENSIONS):
                    p = os.path.join(d, f)
                    try:
                        if os.path.getsize(p) <= MAX_SEED_BYTES:
                            with open(p, "rb") as fh:
                                out.append((f, fh.read()))
                    except OSError:
                        pass
    if limit and len(out) > limit:
        out = (rng or random.Random(0)).sample(out, limit)
    return out


# ---- running the CLI ----

@dataclass
class Failure:
    what: str
    detail: str
    files: list[str]


def _cnlint(args, cwd, timeout):
    cmd = [sys.executable, "-m", "cnlint", *args]
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return p


def _problem(p, label: str) -> str | None:
    """Why a CLI run counts as a failure, or None."""
    if p is None:
        return f"{label}: timed out"
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode not in (0, 1, 2):
        return f"{label}: exit code {p.returncode}"
    if "Traceback" in err:
        return f"{label}: traceback: {err.strip().splitlines()[-1][:300]}"
    try:
        doc = json.loads(p.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return f"{label}: stdout is not UTF-8 JSON ({e})"
    # a rule stopped by rule-timeout is only a warning for users, but on these
    # small files it means a slow (quadratic) path in the rule: a failure here
    crashed = [n for n in doc.get("notices", []) if n["kind"] == "internal-error" or "rule-timeout" in n["message"]]
    if crashed:
        return f"{label}: internal error: {crashed[0]['path']}: {crashed[0]['message'][:300]}"
    if p.returncode == 2:
        return f"{label}: exit code 2 without an internal error: {err.strip()[:300]}"
    return None


def _syntax_errors(p) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in json.loads(p.stdout.decode("utf-8")).get("findings", []):
        if f["rule_id"] == "CN001":
            counts[f["path"]] = counts.get(f["path"], 0) + 1
    return counts


def check_batch(files: list[tuple[str, bytes]], jobs: int, timeout: float, fix: bool) -> Failure | None:
    """Run the CLI on ``files`` (name, bytes) in a fresh directory; the first failure, or None."""
    with tempfile.TemporaryDirectory(prefix="cnlint-fuzz-") as tmp:
        os.mkdir(os.path.join(tmp, ".git"))  # the mutants are a repository of their own
        for i, (name, data) in enumerate(files):
            with open(os.path.join(tmp, f"m{i:05d}_{name}"), "wb") as fh:
                fh.write(data)
        base = ["check", "--isolated", "--select", "ALL", "--no-cache", "--format", "json", "-j", str(jobs), "."]
        p = _cnlint(base, tmp, timeout)
        why = _problem(p, "check")
        if why:
            return Failure("check", why, [n for n, _ in files])
        if not fix:
            return None
        before = _syntax_errors(p)
        q = _cnlint([*base[:-1], "--fix", "--unsafe-fixes", "."], tmp, timeout)
        why = _problem(q, "fix")
        if why:
            return Failure("fix", why, [n for n, _ in files])
        after = _syntax_errors(_cnlint(base, tmp, timeout))
        broken = [path for path, n in after.items() if n > before.get(path, 0)]
        if broken:
            return Failure("fix", f"fix added syntax errors to {broken[0]}", [n for n, _ in files])
    return None


def bisect(files, jobs, timeout, fix) -> list[tuple[str, bytes]]:
    """The smallest failing part of ``files`` found by halving."""
    while len(files) > 1:
        half = len(files) // 2
        for part in (files[:half], files[half:]):
            if check_batch(part, jobs, timeout, fix):
                files = part
                break
        else:
            return files  # only fails together
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mutants", type=int, default=1000, help="mutated files to try (default 1000)")
    ap.add_argument("--batch", type=int, default=100, help="files per CLI run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", action="append", default=[], help="more seed directories")
    ap.add_argument("--seeds", type=int, default=0, help="use at most this many seed files (0: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300, help="seconds per CLI run")
    ap.add_argument("--no-fix", action="store_true", help="skip the --fix pass")
    ap.add_argument("--crash-dir", default=os.path.join(HERE, "crashes"))
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    dirs = [os.path.join(REPO, "fixtures"), os.path.join(REPO, "examples")] + args.corpus
    seeds = seed_files(dirs, args.seeds or None, rng)
    donors = [data for _, data in seeds]
    started = time.perf_counter()
    failures: list[tuple[Failure, list[tuple[str, bytes]]]] = []
    done = 0
    while done < args.mutants:
        n = min(args.batch, args.mutants - done)
        batch = []
        for _ in range(n):
            name, data = rng.choice(seeds)
            batch.append((name, mutate(data, rng, donors)))
        t = time.perf_counter()
        failure = check_batch(batch, args.jobs, args.timeout, not args.no_fix)
        if failure:
            culprit = bisect(batch, args.jobs, args.timeout, not args.no_fix)
            failures.append((failure, culprit))
            os.makedirs(args.crash_dir, exist_ok=True)
            for name, data in culprit:
                with open(os.path.join(args.crash_dir, f"seed{args.seed}-{done}-{name}"), "wb") as fh:
                    fh.write(data)
        done += n
        print(f"{done:>6} mutants  {time.perf_counter() - t:6.1f} s  "
              f"{'FAIL ' + failure.detail if failure else 'ok'}", flush=True)
    wall = time.perf_counter() - started
    print(f"\n{done} mutants of {len(seeds)} seed files, seed {args.seed}, fix pass "
          f"{'off' if args.no_fix else 'on'}: {len(failures)} failing batch(es) in {wall:.0f} s")
    for failure, culprit in failures:
        print(f"  {failure.detail}\n    files: {', '.join(n for n, _ in culprit)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
