"""Which Node.js versions a project targets, and whether they have require(esm).

The floor comes from (in this order of authority): the rule's ``node-version``
option; else the Node that runs the code (:mod:`.runtimes`: the final stage of
the package's Dockerfile, or the VS Code extension host for ``engines.vscode``);
else the lowest version admitted by any of ``engines.node``,
``volta.node`` (nearest package.json declaring them), ``.nvmrc`` and
``.node-version`` (nearest file up the tree). Version strings are read as npm's
semver ranges (``>=18``, ``^20.19 || >=22.12``, ``18.x``, ``20 - 22``, ``v20.11.1``,
``lts/iron``...), kept as a union of half-open intervals, so the rule can ask
both "what is the lowest admitted version" and "does every admitted version run
require(esm)".

require(esm) is on by default from Node 20.19 (20.x line), 22.12 and 23.0; it
is off in every version below, in 21.x and in 22.0-22.11, and everywhere with
``--no-experimental-require-module``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from .pkgjson import nearest_package_json, read_json, show_path

Version = tuple[int, int, int]
INF: Version = (1 << 30, 0, 0)

#: [lo, hi) intervals where require(esm) is on by default.
REQUIRE_ESM_ON: tuple[tuple[Version, Version], ...] = (((20, 19, 0), (21, 0, 0)), ((22, 12, 0), INF))

#: nvm's LTS code names.
LTS_NAMES = {
    "argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
    "gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24,
}
#: aliases meaning "the newest release" (every current line has require(esm))
LATEST_ALIASES = {"node", "latest", "stable", "current", "lts/*", "lts"}


class RangeError(ValueError):
    pass


_PART = r"(?:0|[1-9]\d*|[xX*])"
_VER = re.compile(rf"^v?=?\s*({_PART})(?:\.({_PART}))?(?:\.({_PART}))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_COMP = re.compile(r"^(<=|>=|<|>|=|~>|~|\^)?\s*(.*)$")


def _parse_partial(text: str) -> tuple[int | None, int | None, int | None]:
    m = _VER.match(text.strip())
    if not m:
        raise RangeError(f"not a version: {text!r}")
    out: list[int | None] = []
    for g in m.groups():
        out.append(None if g is None or g in ("x", "X", "*") else int(g))
    # "1.x.3" -> treat everything after the first wildcard as wildcard
    for i in range(3):
        if out[i] is None:
            out[i + 1:] = [None] * (2 - i)
            break
    return out[0], out[1], out[2]


def _bump(v: tuple[int | None, int | None, int | None]) -> Version:
    """The first version after every version matching the partial ``v``."""
    major, minor, patch = v
    if major is None:
        return INF
    if minor is None:
        return (major + 1, 0, 0)
    if patch is None:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def _floor(v) -> Version:
    return tuple(x or 0 for x in v)  # type: ignore[return-value]


def _comparator(op: str, v) -> tuple[Version, Version]:
    lo, hi = (0, 0, 0), INF
    major, minor, patch = v
    if op in ("", "="):
        if major is None:
            return lo, hi
        return _floor(v), _bump(v)
    if op == ">=":
        return _floor(v), hi
    if op == ">":
        return (_bump(v) if major is not None else INF), hi
    if op == "<":
        return lo, (_floor(v) if major is not None else (0, 0, 0))
    if op == "<=":
        return lo, _bump(v)
    if op in ("~", "~>"):
        if major is None:
            return lo, hi
        if minor is None:
            return _floor(v), (major + 1, 0, 0)
        return _floor(v), (major, minor + 1, 0)
    if op == "^":
        if major is None:
            return lo, hi
        if major > 0 or minor is None:
            return _floor(v), (major + 1, 0, 0)
        if minor > 0 or patch is None:
            return _floor(v), (0, minor + 1, 0)
        return _floor(v), (0, 0, patch + 1)
    raise RangeError(f"unknown operator {op!r}")


@dataclass(frozen=True)
class NodeRange:
    """A set of Node versions: a union of [lo, hi) intervals."""

    intervals: tuple[tuple[Version, Version], ...]
    text: str = ""

    @property
    def empty(self) -> bool:
        return not self.intervals

    @property
    def lowest(self) -> Version | None:
        return min((lo for lo, _ in self.intervals), default=None)

    def admits_without_require_esm(self) -> Version | None:
        """The lowest admitted version on which require(esm) is off, if any."""
        best = None
        for lo, hi in self.intervals:
            for off_lo, off_hi in _complement(REQUIRE_ESM_ON):
                a, b = max(lo, off_lo), min(hi, off_hi)
                if a < b and (best is None or a < best):
                    best = a
        return best


def _complement(intervals) -> list[tuple[Version, Version]]:
    out, cur = [], (0, 0, 0)
    for lo, hi in sorted(intervals):
        if cur < lo:
            out.append((cur, lo))
        cur = max(cur, hi)
    if cur < INF:
        out.append((cur, INF))
    return out


def parse_range(text: str) -> NodeRange:
    """Parse an npm semver range (or an .nvmrc-style version) into intervals."""
    raw = text.strip()
    low = raw.lower()
    if low in LATEST_ALIASES:
        return NodeRange((((24, 0, 0), INF),), raw)
    if low.startswith("lts/"):
        name = low[4:]
        if name in LTS_NAMES:
            m = LTS_NAMES[name]
            return NodeRange((((m, 0, 0), (m + 1, 0, 0)),), raw)
        raise RangeError(f"unknown LTS name {raw!r}")
    intervals = []
    for alt in raw.split("||"):
        alt = alt.strip()
        if alt in ("", "*", "x", "X", "latest"):
            intervals.append(((0, 0, 0), INF))
            continue
        lo, hi = (0, 0, 0), INF
        hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", alt)
        if hyphen:
            a, b = _parse_partial(hyphen.group(1)), _parse_partial(hyphen.group(2))
            lo, hi = _floor(a), _bump(b)
        else:
            # "> = 18" and ">= 18" are accepted by npm: glue operators to versions
            tokens = re.findall(r"(?:<=|>=|<|>|=|~>|~|\^)?\s*[^\s<>=~^]+", alt)
            if not tokens or "".join(t.replace(" ", "") for t in tokens) != alt.replace(" ", ""):
                raise RangeError(f"cannot read range {alt!r}")
            for tok in tokens:
                m = _COMP.match(tok.strip())
                op, ver = m.group(1) or "", m.group(2)
                c_lo, c_hi = _comparator(op, _parse_partial(ver))
                lo, hi = max(lo, c_lo), min(hi, c_hi)
        if lo < hi:
            intervals.append((lo, hi))
    return NodeRange(tuple(sorted(intervals)), raw)


def fmt(v: Version | None) -> str:
    if v is None:
        return "?"
    if v >= INF:
        return "∞"
    return ".".join(map(str, v))


def require_esm_on(v: Version) -> bool:
    return any(lo <= v < hi for lo, hi in REQUIRE_ESM_ON)


@dataclass(frozen=True)
class NodeTarget:
    """The Node versions the file will run on, and where that came from."""

    range: NodeRange | None  # None: nothing says
    source: str  # "engines.node in package.json", "option node-version", "no engines.node ..."
    flag_off: bool = False  # --no-experimental-require-module seen
    #: how to move the code to a Node with require(esm), for messages
    upgrade: str = "require Node ^20.19 || >=22.12 (engines.node)"

    @property
    def floor(self) -> Version | None:
        return self.range.lowest if self.range else None

    @property
    def require_esm(self) -> bool:
        """require(esm) works on every admitted version."""
        if self.flag_off or self.range is None or self.range.empty:
            return False
        return self.range.admits_without_require_esm() is None

    @property
    def first_without(self) -> Version | None:
        """The lowest admitted version without require(esm) (the one that crashes)."""
        if self.range is None or self.range.empty:
            return None
        if self.flag_off:
            return self.range.lowest
        return self.range.admits_without_require_esm()

    def describe(self) -> str:
        if self.range is None:
            return (f"a Node without require(esm) (nothing names the Node version: {self.source}; "
                    f"cnlint assumes one below 20.19)")
        floor = fmt(self.floor)
        if self.flag_off:
            return f"Node >= {floor} ({self.source}) with --no-experimental-require-module"
        low = self.first_without
        if low is not None and low != self.floor:
            return f"Node {self.range.text!r} ({self.source}) admits {fmt(low)}, which has no require(esm)"
        return f"Node floor {floor} ({self.source})"


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


@lru_cache(maxsize=None)
def _dotfile_range(directory: str) -> tuple[NodeRange, str] | None:
    """The nearest .nvmrc / .node-version at or above ``directory``."""
    d = directory
    while True:
        for name in (".nvmrc", ".node-version"):
            text = _read_text(os.path.join(d, name))
            if text is not None:
                line = next((ln.split("#", 1)[0].strip() for ln in text.splitlines()
                             if ln.split("#", 1)[0].strip()), "")
                if line:
                    try:
                        return parse_range(line), f"{name} in {show_path(d)}"
                    except RangeError:
                        pass
        parent = os.path.dirname(d)
        if parent == d or os.path.isdir(os.path.join(d, ".git")):
            return None  # not past the repository root
        d = parent


@lru_cache(maxsize=None)
def _package_ranges(directory: str) -> tuple[tuple[NodeRange, str], ...]:
    """engines.node and volta.node of the nearest package.json files declaring them."""
    out = []
    found_engines = found_volta = False
    d = directory
    while True:
        pj = nearest_package_json(d)
        if pj is None:
            break
        data = read_json(pj) or {}
        engines = data.get("engines")
        if not found_engines and isinstance(engines, dict) and isinstance(engines.get("node"), str):
            try:
                out.append((parse_range(engines["node"]), f"engines.node {engines['node']!r} in {show_path(pj)}"))
                found_engines = True
            except RangeError:
                pass
        volta = data.get("volta")
        if not found_volta and isinstance(volta, dict) and isinstance(volta.get("node"), str):
            try:
                out.append((parse_range(volta["node"]), f"volta.node {volta['node']!r} in {show_path(pj)}"))
                found_volta = True
            except RangeError:
                pass
        if found_engines and found_volta:
            break
        parent = os.path.dirname(os.path.dirname(pj))
        if parent == os.path.dirname(pj) or os.path.basename(os.path.dirname(pj)) == "node_modules":
            break
        d = parent
    return tuple(out)


_FLAG = "--no-experimental-require-module"


@lru_cache(maxsize=None)
def _flag_in_scripts(directory: str) -> bool:
    pj = nearest_package_json(directory)
    if pj is None:
        return False
    data = read_json(pj) or {}
    scripts = data.get("scripts")
    return isinstance(scripts, dict) and any(isinstance(v, str) and _FLAG in v for v in scripts.values())


@lru_cache(maxsize=None)
def node_target(directory: str, option: str = "", flag_in_file: bool = False) -> NodeTarget:
    """The Node versions for files in ``directory`` (absolute)."""
    flag = flag_in_file or _flag_in_scripts(directory) or _FLAG in option
    opt = option.replace(_FLAG, "").strip()
    if opt:
        try:
            return NodeTarget(parse_range(opt), f"option node-version {opt!r}", flag)
        except RangeError:
            pass
    # what runs the code outranks what the package promises (runtimes builds on this module)
    from .runtimes import docker_range, vscode_range

    runtime = docker_range(directory) or vscode_range(directory)
    if runtime is not None:
        rng, src, upgrade = runtime
        return NodeTarget(rng, src, flag, upgrade)
    sources = list(_package_ranges(directory))
    dot = _dotfile_range(directory)
    if dot:
        sources.append(dot)
    sources = [s for s in sources if not s[0].empty]
    if not sources:
        return NodeTarget(None, "no engines.node, volta.node, .nvmrc or .node-version", flag)
    # the lowest of all: a project declaring engines ">=18" and pinning 22 in .nvmrc
    # still promises to run on 18.
    def key(s):
        r = s[0]
        return (r.admits_without_require_esm() or INF, r.lowest)

    rng, src = min(sources, key=key)
    return NodeTarget(rng, src, flag)
