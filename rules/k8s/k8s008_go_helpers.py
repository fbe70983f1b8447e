"""K8S008 in Go: what builds a Kubernetes client, whether it runs again on every
pass of a loop or a handler, and the package's own helpers that build one on
every call (``func GenerateK8sClient() *kubernetes.Clientset``), found in every
non-test file of the package and indexed once per directory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from cnlint.backends.treesitter import parser
from cnlint.golang import (
    GoSemantics, breaks_loop, call_args, descendants, is_bounded_loop, is_immediately_called,
    loop_level_nodes, loop_variables, params, root_identifier, text,
)

from cnlint.project import on_clear

from .import_paths import CTRL, CTRL_CLIENT

CLIENTSET = "k8s.io/client-go/kubernetes"
#: (import path, function) -> what it builds
GO_BUILDERS = {
    (CLIENTSET, "NewForConfig"): "a clientset",
    (CLIENTSET, "NewForConfigOrDie"): "a clientset",
    (CLIENTSET, "NewForConfigAndClient"): "a clientset",
    ("k8s.io/client-go/rest", "InClusterConfig"): "the in-cluster config",
    ("k8s.io/client-go/tools/clientcmd", "BuildConfigFromFlags"): "a config from the kubeconfig file",
    ("k8s.io/client-go/tools/clientcmd", "BuildConfigFromKubeconfigGetter"): "a config from a kubeconfig",
    ("k8s.io/client-go/dynamic", "NewForConfig"): "a dynamic client",
    ("k8s.io/client-go/dynamic", "NewForConfigOrDie"): "a dynamic client",
    ("k8s.io/client-go/discovery", "NewDiscoveryClientForConfig"): "a discovery client",
    ("k8s.io/client-go/discovery", "NewDiscoveryClientForConfigOrDie"): "a discovery client",
    ("k8s.io/client-go/metadata", "NewForConfig"): "a metadata client",
    ("k8s.io/client-go/metadata", "NewForConfigOrDie"): "a metadata client",
    (CTRL_CLIENT, "New"): "a controller-runtime client",
    (CTRL_CLIENT, "NewWithWatch"): "a controller-runtime client",
    (CTRL, "GetConfig"): "a config from the kubeconfig",
    (CTRL, "GetConfigOrDie"): "a config from the kubeconfig",
    ("sigs.k8s.io/controller-runtime/pkg/client/config", "GetConfig"): "a config from the kubeconfig",
    ("sigs.k8s.io/controller-runtime/pkg/client/config", "GetConfigOrDie"): "a config from the kubeconfig",
}
#: the words a file that calls a builder must contain (the rule's prefilter uses them too)
BUILDER_WORDS = (b"NewForConfig", b"InClusterConfig", b"BuildConfigFrom", b"NewDiscoveryClientForConfig",
                 b"controller-runtime")
#: the result types of a helper that hands out a client or a config
CLIENT_TYPE_PACKAGES = ("k8s.io/client-go/", CTRL + "/")


def builds(sem: GoSemantics, call) -> Optional[str]:
    """What ``call`` builds when it is one of client-go's or controller-runtime's
    client or config builders (a generated clientset's ``NewForConfig`` too)."""
    target = sem.package_function(call)
    if target is None:
        return None
    what = GO_BUILDERS.get(target)
    if what is None and target[1] in ("NewForConfig", "NewForConfigOrDie") and "/clientset/" in target[0] + "/":
        what = "a generated clientset"
    return what


def same_every_time(sem: GoSemantics, call, scope, builds_value, *, params_vary: bool = True,
                    inputs=None, depth: int = 0) -> bool:
    """Whether the builder's inputs are the same on every run of ``scope`` (a
    loop, a handler, a helper): they come from outside it, or from other
    builders (``builds_value(node)``) called with such inputs. An input declared
    in ``scope`` any other way varies: a loop item, a value received from a
    channel, a handler's request, per-request credentials (``cfg.BearerToken =
    token``, ``rest.CopyConfig(base)``, ``&rest.Config{...}`` built in place).
    With ``params_vary=False`` (a helper) only values received or ranged over
    vary: the helper's caller decides its parameters, and whatever the helper
    assembles from them and from package state is the same for the same call.
    ``inputs`` replaces the call's arguments (a helper's that do not reach its builder)."""
    if depth > 4:
        return False
    names = set()
    for arg in call_args(call) if inputs is None else inputs:
        names |= {text(n) for n in identifiers(arg)}
    names -= set(sem.imports.names)
    names -= {"nil", "true", "false", "_"}
    if scope.type == "for_statement":
        varying = loop_variables(scope)
    else:
        varying = {n for ns, _ in params(scope) for n in ns} if params_vary else set()
    if names & varying:
        return False
    body = scope.child_by_field_name("body")
    if body is None:
        return True
    for n in descendants(body, into_funcs=False):
        if n.start_byte >= call.start_byte:
            break
        t = n.type
        if t in ("short_var_declaration", "assignment_statement", "var_spec", "receive_statement",
                 "range_clause"):
            left = n.child_by_field_name("left") if t != "var_spec" else None
            targets = left.named_children if left is not None else n.children_by_field_name("name")
            for i, target in enumerate(targets):
                root = root_identifier(target)
                if root is None or text(root) not in names:
                    continue
                if t in ("receive_statement", "range_clause"):
                    return False
                if not params_vary:
                    continue  # a helper's config: however it is assembled, its caller decides the inputs
                if target.type != "identifier":
                    return False  # cfg.BearerToken = token: the config is changed here
                right = n.child_by_field_name("right") if t != "var_spec" else n.child_by_field_name("value")
                values = right.named_children if right is not None else []
                value = values[i] if len(values) == len(targets) else values[0] if values else None
                if value is None or value.type != "call_expression" or not builds_value(value):
                    return False
                if not same_every_time(sem, value, scope, builds_value, params_vary=params_vary, depth=depth + 1):
                    return False
    return True


def per_iteration(sem: GoSemantics, loop, call, builds_value, inputs=None) -> bool:
    """Whether ``call`` builds the same client again on every iteration of ``loop``:
    not a retry loop, not one client per item, not a loop that returns what it built."""
    if is_bounded_loop(loop) or breaks_loop(loop):
        return False
    if not same_every_time(sem, call, loop, builds_value, inputs=inputs):
        return False  # one client per item (cluster, context, kubeconfig), or a new config
    return not returns_result(loop, call)


def returns_result(loop, call) -> bool:
    """``for { cfg, err := rest.InClusterConfig(); if err == nil { return cfg, nil } ... }``."""
    stmt = call.parent
    while stmt is not None and stmt.type not in ("short_var_declaration", "assignment_statement",
                                                  "return_statement", "var_spec"):
        if stmt.type in ("block", "for_statement"):
            return False
        stmt = stmt.parent
    if stmt is None:
        return False
    if stmt.type == "return_statement":
        return True
    names = assigned_names(stmt) - {"err"}
    for n in loop_level_nodes(loop):
        if n.type == "return_statement" and any(text(x) in names for x in identifiers(n)):
            return True
    return False


def lazy_init(call) -> bool:
    """Inside ``if c.cs == nil { c.cs, err = kubernetes.NewForConfig(cfg) }`` or ``once.Do(func() {...})``."""
    assigned = set()
    stmt = call.parent
    if stmt is not None and stmt.type == "expression_list":
        stmt = stmt.parent
    if stmt is not None and stmt.type == "assignment_statement":
        left = stmt.child_by_field_name("left")
        assigned = {text(n) for n in left.named_children} if left is not None else set()
    node = call.parent
    while node is not None and node.type not in ("function_declaration", "method_declaration"):
        if node.type == "if_statement":
            cond = node.child_by_field_name("condition")
            if cond is not None and cond.type == "binary_expression" and \
                    text(cond.child_by_field_name("operator")) == "==" and \
                    text(cond.child_by_field_name("right")) == "nil" and \
                    text(cond.child_by_field_name("left")) in assigned:
                return True
        if node.type == "func_literal" and node.parent is not None and node.parent.type == "argument_list":
            outer_call = node.parent.parent
            fn = outer_call.child_by_field_name("function") if outer_call is not None else None
            if fn is not None and fn.type == "selector_expression" and \
                    text(fn.child_by_field_name("field")) == "Do":
                return True
        node = node.parent
    return False


def running_function(call):
    """The function whose every run runs ``call`` (a function literal called where it
    stands belongs to its enclosing function)."""
    node = call.parent
    while node is not None:
        if node.type in ("function_declaration", "method_declaration"):
            return node
        if node.type == "func_literal" and not is_immediately_called(node):
            return node
        node = node.parent
    return None


def identifiers(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            yield n
        stack.extend(n.named_children)


def assigned_names(stmt) -> set[str]:
    """The plain names a declaration or assignment binds (``_`` left out)."""
    left = stmt.child_by_field_name("left")
    nodes = left.named_children if left is not None else stmt.children_by_field_name("name")
    return {text(n) for n in nodes if n.type == "identifier"} - {"_"}


# ------------------------------------------------------------------ the package's helpers

def helper_key(fn) -> Optional[str]:
    """How helpers are named: ``GenerateK8sClient`` for a function, ``Server.client``
    for a method (its receiver's type without the pointer); None for other nodes."""
    name = fn.child_by_field_name("name")
    if fn.type == "function_declaration" and name is not None:
        return text(name)
    if fn.type == "method_declaration" and name is not None:
        recv = receiver(fn)
        return f"{recv[1]}.{text(name)}" if recv is not None else None
    return None


def receiver(method) -> Optional[tuple[str, str]]:
    """(receiver name, its type name) of ``func (s *Server) m()``."""
    plist = method.child_by_field_name("receiver")
    decl = plist.named_children[0] if plist is not None and plist.named_children else None
    if decl is None or decl.type != "parameter_declaration":
        return None
    names = decl.children_by_field_name("name")
    typ = decl.child_by_field_name("type")
    while typ is not None and typ.type in ("pointer_type", "generic_type"):
        typ = typ.named_children[0] if typ.type == "pointer_type" else typ.child_by_field_name("type")
    if not names or typ is None or typ.type != "type_identifier":
        return None
    return text(names[0]), text(typ)


@dataclass(frozen=True)
class Helper:
    """A package-level function, or a method, that builds a client on every call."""
    name: str       # as ``helper_key`` names it
    what: str       # what it builds, as ``builds`` says it
    via: str        # the builder call inside it, as written (``kubernetes.NewForConfig``)
    path: str       # the file it is declared in
    line: int       # 1-based line of that builder call
    uses_params: bool  # whether its parameters reach the builder (else a call's arguments do not matter)


def package_helpers(directory: str, package: str, go_mod) -> dict[str, Helper]:
    """The helpers declared in the non-test files of the package ``package`` in
    ``directory``, by name (cached per directory and process until one of its
    files changes: the language server and repeated runs see edits)."""
    directory = os.path.abspath(directory)
    return _package_helpers(directory, package, go_mod, _package_files(directory))


@lru_cache(maxsize=256)
def _package_helpers(directory: str, package: str, go_mod, files: tuple) -> dict[str, Helper]:
    sources = {}
    for path, _, _ in files:
        try:
            with open(path, "rb") as f:
                sources[path] = f.read()
        except OSError:
            continue
    functions = {}  # name -> (declaration, semantics, path)
    helpers: dict[str, Helper] = {}
    # parse the files that call a builder, then those that call a helper found so far
    wanted = [p for p, data in sources.items() if any(w in data for w in BUILDER_WORDS)]
    for _ in range(3):  # helpers that call helpers, three deep
        for path in wanted:
            tree = parser("go").parse(sources.pop(path))
            if _declares_package(tree.root_node, package):
                sem = GoSemantics(tree, go_mod)
                for node in tree.root_node.named_children:
                    key = helper_key(node)
                    if key is not None and _returns_client(sem, node):
                        functions[key] = (node, sem, path)
        new = _grow(functions, helpers)
        if not new:
            break
        called = re.compile(rb"\b(?:%s)\s*\(" % b"|".join(re.escape(n.split(".")[-1].encode()) for n in new))
        wanted = [p for p, data in sources.items() if called.search(data)]
    return helpers


def _grow(functions: dict, helpers: dict[str, Helper]) -> list[str]:
    """Add to ``helpers`` the functions that build a client on every call (helpers
    that call helpers too); the names added."""
    added = []
    grown = True
    while grown:
        grown = False
        for name, (fn, sem, path) in functions.items():
            if name not in helpers:
                found = _builds_every_call(sem, fn, helpers)
                if found is not None:
                    what, via = found
                    helpers[name] = Helper(name, what, text(via.child_by_field_name("function")), path,
                                           via.start_point[0] + 1, _reaches(fn, via, helpers))
                    added.append(name)
                    grown = True
    return added


def _package_files(directory: str) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of the non-test ``.go`` files of ``directory``."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return ()
    out = []
    for e in entries:
        if e.name.endswith(".go") and not e.name.endswith("_test.go"):
            try:
                st = e.stat()
            except OSError:
                continue
            if e.is_file():
                out.append((e.path, st.st_mtime_ns, st.st_size))
    return tuple(out)


def _declares_package(root, package: str) -> bool:
    for node in root.named_children:
        if node.type == "package_clause":
            return bool(node.named_children) and text(node.named_children[0]) == package
    return False


def _returns_client(sem: GoSemantics, fn) -> bool:
    """Its results include a client-go or controller-runtime type (a clientset, a
    ``*rest.Config``, an interface of them): a constructor of the program's own
    long-lived struct is not a helper that hands out clients."""
    result = fn.child_by_field_name("result")
    if result is None:
        return False
    for node in [result, *descendants(result)]:
        if node.type == "qualified_type":
            target = sem.qualified(node)
            if target is not None and (target[0].startswith(CLIENT_TYPE_PACKAGES) or "/clientset/" in target[0]):
                return True
    return False


def _builds_every_call(sem: GoSemantics, fn, helpers: dict[str, Helper]) -> Optional[tuple[str, object]]:
    """(what, builder call) when every call of ``fn`` runs a builder, or a known
    helper, with inputs that only its caller decides, and keeps nothing: not
    behind ``if x == nil`` or ``once.Do``, not stored in a package variable, a
    field or a map (a cache)."""
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    local = _locals(fn)

    def builds_value(node) -> Optional[str]:
        what = builds(sem, node)
        if what is None:
            callee = node.child_by_field_name("function")
            if callee is not None and callee.type == "identifier" and text(callee) in helpers:
                what = helpers[text(callee)].what
        return what

    found = None
    for node in descendants(body, into_funcs=False):
        if node.type == "assignment_statement" and any(
                text(root_identifier(t) or t) not in local
                for t in node.child_by_field_name("left").named_children if text(t) != "_"):
            return None  # a package variable, or a field or map of one, keeps the client: a cache
        if node.type == "call_expression" and (found is None or is_config(found[0])):
            what = builds_value(node)
            if what is not None and not lazy_init(node) and \
                    same_every_time(sem, node, fn, builds_value, params_vary=False):
                found = (what, node)  # a client it builds tells more than the config it loads first
    return found


def is_config(what: str) -> bool:
    return what.startswith(("the in-cluster config", "a config"))


def _reaches(fn, call, helpers: dict[str, Helper]) -> bool:
    """Whether a parameter of ``fn`` reaches ``call``'s arguments, through the
    assignments in ``fn`` (a helper called inside counts only if its own do)."""
    callee = call.child_by_field_name("function")
    if callee is not None and callee.type == "identifier" and text(callee) in helpers and \
            not helpers[text(callee)].uses_params:
        return False
    names = {text(n) for arg in call_args(call) for n in identifiers(arg)}
    body = fn.child_by_field_name("body")
    binds = [n for n in descendants(body, into_funcs=False)
             if n.type in ("short_var_declaration", "assignment_statement", "var_spec")] if body is not None else []
    for _ in range(4):
        for n in binds:
            left = n.child_by_field_name("left")
            targets = left.named_children if left is not None else n.children_by_field_name("name")
            if any(text(root_identifier(t) or t) in names for t in targets):
                right = n.child_by_field_name("right") or n.child_by_field_name("value")
                if right is not None:
                    names |= {text(x) for x in identifiers(right)}
    return bool(names & {n for ns, _ in params(fn) for n in ns})


def _locals(fn) -> set[str]:
    """Names declared in ``fn``: parameters, named results, ``:=`` and ``var``."""
    names = {n for ns, _ in params(fn) for n in ns}
    result = fn.child_by_field_name("result")
    if result is not None and result.type == "parameter_list":
        for p in result.named_children:
            names |= {text(n) for n in p.children_by_field_name("name")}
    body = fn.child_by_field_name("body")
    for n in descendants(body, into_funcs=False) if body is not None else ():
        if n.type in ("short_var_declaration", "var_spec", "range_clause"):
            names |= assigned_names(n)
    return names


on_clear(_package_helpers.cache_clear)  # the language server forgets them with the other project facts
