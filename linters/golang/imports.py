"""The import table of a Go file and the one answer to "what is the package
name of this import path?".

Resolution order for an import without an explicit name:

1. The package clause of the imported package's own source, when it can be
   found: inside the module (the nearest ``go.mod``'s module path plus the
   directory), in ``vendor/``, in a directory a ``replace`` directive names, or
   in the module cache (``$GOMODCACHE``, else ``$GOPATH/pkg/mod``, else
   ``~/go/pkg/mod``) at the version ``go.mod`` requires.
2. Otherwise the name goimports assumes (``ImportPathToAssumedName`` in
   golang.org/x/tools/internal/imports): the last path element; if that is
   ``v`` followed by digits (``/v2``, and also ``/v1``) the element before it;
   a ``go-`` prefix dropped; then everything from the first character that
   cannot be in an identifier cut off (``yaml.v3`` -> ``yaml``, ``jwt-go`` ->
   ``jwt``). So ``k8s.io/api/core/v1`` is assumed ``core`` and
   ``google.golang.org/api/compute/v1`` ``compute``.
3. A file that compiles shows the name it uses: when the assumed name is never
   used as a qualifier in the file but the last path element is (``v1.Pod``
   with ``"k8s.io/api/core/v1"`` imported bare, whose package clause says
   ``package v1``), the last element is the name.

Package clauses and ``go.mod`` files are read once per process.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Iterable, Optional

import tree_sitter

from ..project import GoModule, on_clear
from .syntax import import_specs, string_value, text

_PACKAGE_RE = re.compile(rb"^package[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_BLOCK_COMMENT_RE = re.compile(rb"/\*.*?\*/", re.S)
_VERSION_RE = re.compile(r"v[0-9]+")
_NOT_IDENTIFIER_RE = re.compile(r"[^\w]", re.UNICODE)


def assumed_package_name(path: str) -> str:
    """The package name goimports assumes for ``path`` from the path alone."""
    base = path.rsplit("/", 1)[-1]
    if _VERSION_RE.fullmatch(base) and "/" in path:
        base = path.rsplit("/", 2)[-2]
    base = base.removeprefix("go-")
    return _NOT_IDENTIFIER_RE.split(base, 1)[0]


def last_element_name(path: str) -> str:
    """The identifier at the start of the last path element (``v1`` of ``.../core/v1``)."""
    return _NOT_IDENTIFIER_RE.split(path.rsplit("/", 1)[-1], 1)[0]


@lru_cache(maxsize=None)
def package_clause(directory: str) -> Optional[str]:
    """The package name the non-test ``.go`` files of ``directory`` declare,
    None when it has none. A ``main`` or ``documentation`` package (a stray
    generator, a doc file) gives way to any other name found there."""
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".go") and not n.endswith("_test.go"))
    except OSError:
        return None
    fallback = None
    for name in names:
        try:
            with open(os.path.join(directory, name), "rb") as f:
                head = f.read(16384)
        except OSError:
            continue
        m = _PACKAGE_RE.search(_BLOCK_COMMENT_RE.sub(b"", head))
        if m is None:
            continue
        pkg = m.group(1).decode()
        if pkg not in ("main", "documentation"):
            return pkg
        fallback = fallback or pkg
    return fallback


def module_cache() -> str:
    if os.environ.get("GOMODCACHE"):
        return os.environ["GOMODCACHE"]
    gopath = os.environ.get("GOPATH", "").split(os.pathsep)[0]
    return os.path.join(gopath or os.path.join(os.path.expanduser("~"), "go"), "pkg", "mod")


def _escape_module_path(path: str) -> str:
    """The module cache spells capitals as ``!`` and the lower-case letter."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


def source_directories(path: str, mod: Optional[GoModule]) -> Iterable[str]:
    """Where the source of import ``path`` may be, best first."""
    if mod is None or not mod.module:
        return
    root = os.path.dirname(mod.path)
    if path == mod.module or path.startswith(mod.module + "/"):
        yield os.path.join(root, path[len(mod.module):].lstrip("/"))
        return
    yield os.path.join(root, "vendor", path)
    for module, target in mod.replaces:
        if (path == module or path.startswith(module + "/")) and target.startswith((".", "/")):
            yield os.path.join(root, target, path[len(module):].lstrip("/"))
    owner, version = max(((m, v) for m, v in mod.requires if path == m or path.startswith(m + "/")),
                         key=lambda mv: len(mv[0]), default=(None, None))
    if owner is not None:
        yield os.path.join(module_cache(), _escape_module_path(owner) + "@" + version,
                           path[len(owner):].lstrip("/"))


@lru_cache(maxsize=None)
def package_name(path: str, mod: Optional[GoModule]) -> Optional[str]:
    """The package clause of ``path``'s source when it can be found, else None."""
    for directory in source_directories(path, mod):
        name = package_clause(directory)
        if name is not None:
            return name
    return None


on_clear(package_clause.cache_clear)
on_clear(package_name.cache_clear)


class ImportTable:
    """The imports of one Go file: name used in the file -> import path."""

    def __init__(self, root, mod: Optional[GoModule]):
        self.root = root
        self.decls = [d for d in root.named_children if d.type == "import_declaration"]
        self.names: dict[str, str] = {}
        self.dot_imports: list[str] = []
        bare: list[str] = []
        for decl in self.decls:
            for spec in import_specs(decl):
                path = string_value(spec.child_by_field_name("path")) or ""
                name = spec.child_by_field_name("name")
                if name is None:
                    bare.append(path)
                elif name.type == "package_identifier":
                    self.names[text(name)] = path
                elif name.type == "dot":
                    self.dot_imports.append(path)
        qualifiers = None
        for path in bare:
            name = package_name(path, mod)
            if name is None:
                name = assumed_package_name(path)
                last = last_element_name(path)
                if last != name and last not in self.names:
                    qualifiers = _qualifiers(root) if qualifiers is None else qualifiers
                    if last in qualifiers and name not in qualifiers:
                        name = last
            self.names[name] = path

    def path_of(self, name: str) -> Optional[str]:
        """The import path a package name stands for in this file."""
        return self.names.get(name)

    def alias_for(self, path: str) -> Optional[str]:
        """The name under which ``path`` is imported, None when it is not."""
        return next((n for n, p in self.names.items() if p == path), None)

    def names_for(self, *paths: str) -> set[str]:
        return {n for n, p in self.names.items() if p in paths}

    def imports_prefix(self, *prefixes: str) -> bool:
        """Whether the file imports a package under one of ``prefixes`` under a name."""
        return any(p.startswith(prefixes) for p in self.names.values())

    def edit_point(self, stdlib: bool = False) -> tuple[int, str, str]:
        """Where and how to add an import: (byte, prefix, suffix) around a spec.
        A standard-library package goes first in the import block (where gofmt
        keeps that group), any other last."""
        for decl in self.decls:
            for child in decl.named_children:
                if child.type == "import_spec_list":
                    first, close = child.children[0], child.children[-1]
                    if stdlib and first.type == "(":
                        nl = self.root.text.find(b"\n", first.end_byte)
                        if 0 <= nl < close.start_byte:
                            specs = [c for c in child.named_children if c.type == "import_spec"]
                            first_path = (string_value(specs[0].child_by_field_name("path")) or "") if specs else ""
                            own_group = specs and "." in first_path.split("/")[0]
                            return nl + 1, "\t", "\n\n" if own_group else "\n"
                    return close.start_byte, "\t", "\n"
        if self.decls:
            return self.decls[-1].end_byte, "\nimport ", ""
        pkg = next((c for c in self.root.named_children if c.type == "package_clause"), None)
        return (pkg.end_byte if pkg is not None else 0), "\n\nimport ", ""


_QUALIFIERS = """
(selector_expression operand: (identifier) @name)
(qualified_type package: (package_identifier) @name)
"""


@lru_cache(maxsize=None)
def _qualifiers_query():
    from ..backends.treesitter import language  # the backend imports the file context, which imports us

    return tree_sitter.Query(language("go"), _QUALIFIERS)


def _qualifiers(root) -> set[str]:
    """Names used as package qualifiers (``x`` of ``x.Sel`` and of ``x.T`` types)."""
    captures = tree_sitter.QueryCursor(_qualifiers_query()).captures(root)
    return {text(n) for n in captures.get("name", ())}
