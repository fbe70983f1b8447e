"""The Node that actually runs a package: a VS Code extension host or a container image.

``engines.node`` says what a package promises; two places say what runs it:

- **``engines.vscode``**: a VS Code extension runs in the extension host,
  on the Node.js that VS Code's Electron bundles (the remote extension host,
  for SSH/WSL/containers, ships the same Node line). ``VSCODE_NODE`` maps
  the lowest VS Code version the extension admits to that Node.
- **``FROM`` in the package's Dockerfile**: the final stage's image is the
  runtime (``node:22-alpine``, ``docker.io/library/node:20.19.1-slim``,
  ``gcr.io/distroless/nodejs22-debian12``, ``ubi9/nodejs-20``; a stage alias
  is followed, ``ARG`` defaults are substituted). A floating tag (``node:20``,
  ``lts``) pulls the newest release of its line when the image
  is built; for the lines that have require(esm) (20.19+, 22.12+) that
  release has it.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from .nodeversion import INF, LTS_NAMES, REQUIRE_ESM_ON, NodeRange, RangeError, Version, parse_range
from .pkgjson import nearest_package_json, read_json, show_path

#: (lowest VS Code version, Node.js of its Electron), ascending. Source: the
#: Electron version of each VS Code release (its `.npmrc` ``target``, and the
#: "Electron update" notes of https://code.visualstudio.com/updates) and the
#: Node.js each Electron ships (https://releases.electronjs.org). Only the
#: Node line and whether it has require(esm) (Node 20.19 / 22.12) matter here.
VSCODE_NODE: tuple[tuple[Version, Version], ...] = (
    ((1, 0, 0), (6, 5, 0)),      # Electron 1.x-3.x: Node 6-10; nothing below 12 has ESM at all
    ((1, 36, 0), (10, 11, 0)),   # Electron 4/6
    ((1, 44, 0), (12, 8, 1)),    # Electron 7
    ((1, 47, 0), (12, 14, 1)),   # Electron 9/11
    ((1, 56, 0), (14, 16, 0)),   # Electron 12/13
    ((1, 66, 0), (16, 13, 0)),   # Electron 17/18/19
    ((1, 76, 0), (16, 17, 1)),   # Electron 22
    ((1, 82, 0), (18, 15, 0)),   # Electron 25
    ((1, 86, 0), (18, 17, 1)),   # Electron 27
    ((1, 90, 0), (20, 9, 0)),    # Electron 29
    ((1, 92, 0), (20, 14, 0)),   # Electron 30
    ((1, 96, 0), (20, 18, 1)),   # Electron 32/34: still no require(esm)
    ((1, 101, 0), (22, 15, 1)),  # Electron 35: Node 22 with require(esm)
    ((1, 103, 0), (22, 17, 0)),  # Electron 37
)


#: the first VS Code whose extension host has require(esm)
FIRST_VSCODE_WITH_REQUIRE_ESM: Version = (1, 101, 0)


def vscode_node(vscode: Version) -> Version | None:
    """The Node.js of the lowest VS Code release at or after ``vscode``."""
    found = None
    for since, node in VSCODE_NODE:
        if since <= vscode:
            found = node
    return found


@lru_cache(maxsize=None)
def vscode_range(directory: str) -> tuple[NodeRange, str, str] | None:
    """The Node range of a VS Code extension owning ``directory`` (``engines.vscode``)."""
    pj = nearest_package_json(directory)
    data = (read_json(pj) or {}) if pj else {}
    engines = data.get("engines")
    spec = engines.get("vscode") if isinstance(engines, dict) else None
    if not isinstance(spec, str):
        return None
    try:
        lowest = parse_range(spec).lowest
    except RangeError:
        return None
    node = vscode_node(lowest) if lowest is not None else None
    if node is None:
        return None
    return (NodeRange(((node, INF),), f">={'.'.join(map(str, node))}"),
            f"engines.vscode {spec!r} in {show_path(pj)}: VS Code {'.'.join(map(str, lowest))} "
            f"runs extensions on Electron's Node {'.'.join(map(str, node))}",
            f"require VS Code ^{'.'.join(map(str, FIRST_VSCODE_WITH_REQUIRE_ESM))} in engines.vscode (Node 22)")


_DOCKERFILE = re.compile(r"^(?:Dockerfile|Containerfile)(?:\..+)?$|.+\.(?:Dockerfile|dockerfile)$")
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE | re.MULTILINE)
_ARG = re.compile(r"^\s*ARG\s+(\w+)=(\S+)", re.IGNORECASE | re.MULTILINE)
#: image repositories whose tag is the Node version (node, docker.io/library/node, cgr.dev/chainguard/node)
_NODE_REPO = re.compile(r"(?:^|/)node$")
#: images that name the Node major in the repository (distroless nodejs22-debian12, ubi9/nodejs-20)
_NODE_IN_NAME = re.compile(r"(?:^|/)nodejs-?(\d+)(?:-[\w.]+)?$")


@lru_cache(maxsize=None)
def docker_range(directory: str) -> tuple[NodeRange, str, str] | None:
    """The Node of the image that runs files in ``directory``: the nearest
    Dockerfile from ``directory`` up to its package's root whose final stage is
    a Node image."""
    pj = nearest_package_json(directory)
    stop = os.path.dirname(pj) if pj else directory
    d = directory
    while True:
        for name in sorted(_listdir(d)):
            if _DOCKERFILE.match(name):
                found = _final_node(os.path.join(d, name))
                if found is not None:
                    return found
        if d == stop or os.path.dirname(d) == d:
            return None
        d = os.path.dirname(d)


def _listdir(d: str) -> list[str]:
    try:
        return os.listdir(d)
    except OSError:
        return []


def _final_node(path: str) -> tuple[NodeRange, str, str] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(100_000)
    except OSError:
        return None
    args = dict(_ARG.findall(text))
    stages = {}
    final = None
    for m in _FROM.finditer(text):
        image = re.sub(r"\$\{?(\w+)\}?", lambda a: args.get(a.group(1), a.group(0)), m.group(1))
        final = stages.get(image.lower(), image)  # `FROM builder`: the stage it names
        if m.group(2):
            stages[m.group(2).lower()] = final
    version = image_node(final) if final else None
    if version is None:
        return None
    return (version, f"FROM {final.split('@', 1)[0]} in {show_path(path)}",
            f"run it on a Node image with require(esm) (`FROM node:22` in {show_path(path)})")


def image_node(image: str) -> NodeRange | None:
    """The Node versions a container image reference runs."""
    ref = image.split("@", 1)[0]
    repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    m = _NODE_IN_NAME.search(repo.lower())
    if m:
        return newest_of_line(int(m.group(1)), image)
    if not _NODE_REPO.search(repo.lower()):
        return None
    tag = tag.lower()
    version = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", tag)
    if version:
        major, minor, patch = (int(g) if g is not None else None for g in version.groups())
        if patch is not None:
            return NodeRange((((major, minor, patch), (major, minor, patch + 1)),), image)
        if minor is not None:
            return NodeRange((((major, minor, 0), (major, minor + 1, 0)),), image)
        return newest_of_line(major, image)
    codename = tag.split("-", 1)[0]
    if codename in LTS_NAMES:
        return newest_of_line(LTS_NAMES[codename], image)
    if codename in ("latest", "current", "lts", "slim", "alpine", "bookworm", "bullseye"):
        return NodeRange((((24, 0, 0), INF),), image)
    return None


def newest_of_line(major: int, text: str) -> NodeRange:
    """A floating tag of a Node line: the newest release of the line (at least
    the first one with require(esm), where the line has one)."""
    low: Version = (major, 0, 0)
    for on_lo, on_hi in REQUIRE_ESM_ON:
        if on_lo[0] == major and on_hi > on_lo:
            low = max(low, on_lo)
    return NodeRange(((low, (major + 1, 0, 0)),), text)
