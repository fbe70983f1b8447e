"""The Kubernetes manifests of a repository: container ``env`` and ``args``
entries, and Services.

Rules that follow a value read from an environment variable or a flag to the
place where it is set ask ``manifests_for(directory)``. The repository is the
nearest enclosing directory with ``.git`` or a cnlint config file (a fixture
project marks itself with ``cnlint.toml``). Its YAML files are found by one
bounded walk and parsed once per process, only when a rule asks; the walk's
stamps (``manifests_stamp``) are part of the cache key of the files that may
read them, so editing a manifest re-lints them.

What is read:

- every YAML document (``---``-separated; a document that does not parse is
  skipped) that has ``containers``/``initContainers`` (Deployment,
  StatefulSet, DaemonSet, Job, CronJob, Pod, and strategic-merge patches of
  them) or is a ``Service``;
- Helm templates (files with ``{{ }}``): lines that hold only template actions
  (``{{- if }}``, ``{{- include ... | nindent 4 }}``) are blanked, and
  ``{{ .Values.a.b }}`` becomes the chart's ``values.yaml`` scalar; any other
  expression makes the value unknown (it is never guessed);
- kustomize: ``kustomization.yaml``'s ``namespace`` applies to the resources
  and bases it lists (the walk reads them; bases outside the repository are
  not followed).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Optional

from .project import on_clear

#: Directories never walked: dependencies, VCS data, virtual environments.
SKIP_DIRS = {"node_modules", "vendor", "third_party", "testdata", "__pycache__", "site-packages", "venv",
             "bower_components", "dist", "build", "target"}
MAX_FILES = 3000  # YAML files read per repository
MAX_FILE_SIZE = 1_000_000
MAX_DIRS = 20000  # directories visited per repository
MAX_DEPTH = 12
#: Marks a value produced by a template expression that cannot be evaluated.
UNKNOWN = "\u2047helm\u2047"
ROOT_MARKERS = (".git", "cnlint.toml", ".cnlint.toml")
#: Kinds whose ``spec.replicas`` says how many pods they run.
REPLICATED = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")

_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z0-9]+|\S)", re.M)
#: Kinds that hold neither containers nor a Service's ports.
SKIP_KINDS = {"CustomResourceDefinition", "ConfigMap", "Secret", "ServiceAccount", "Role", "ClusterRole",
              "RoleBinding", "ClusterRoleBinding", "Namespace", "MutatingWebhookConfiguration",
              "ValidatingWebhookConfiguration", "APIService", "PodDisruptionBudget", "NetworkPolicy",
              "PriorityClass", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "Ingress",
              "IngressClass", "Kustomization", "Component"}
_DOC_SEP = re.compile(r"^---[ \t]*(?:#.*)?$|^\.\.\.[ \t]*$", re.M)
_ACTION_LINE = re.compile(r"^[ \t]*(?:\{\{.*?\}\}[ \t]*)+$", re.M)
_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_VALUES_PATH = re.compile(r"^\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)(?:\s*\|\s*quote)?$")


@dataclass(frozen=True)
class Place:
    """A line of a manifest (absolute path, 0-based line)."""

    path: str
    line: int


@dataclass(frozen=True)
class EnvEntry:
    name: str
    value: Optional[str]  # None: not a literal (valueFrom, an unknown template expression)
    namespace: Optional[str]  # None: not known (no namespace, or a template expression)
    workload: str
    place: Place


@dataclass(frozen=True)
class Service:
    name: str
    namespace: Optional[str]
    headless: Optional[bool]  # None: clusterIP is a template expression
    type: str
    ports: tuple[int, ...]  # the literal ``port`` numbers
    selector: Optional[tuple[tuple[str, str], ...]]  # None: none, or not literal
    place: Place


@dataclass(frozen=True)
class Workload:
    """A Deployment, StatefulSet, ... (or a bare Pod) and its pods' labels."""

    kind: str
    name: str
    namespace: Optional[str]
    labels: tuple[tuple[str, str], ...]
    replicas: Optional[int]  # None: not set, or a template expression


@dataclass
class Manifests:
    root: str
    env: dict[str, list[EnvEntry]] = field(default_factory=dict)
    #: flag name (without dashes) -> entries for ``--name=value`` / ``--name value`` in args or command
    flags: dict[str, list[EnvEntry]] = field(default_factory=dict)
    services: dict[str, list[Service]] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    autoscaled: set[str] = field(default_factory=set)  # names HorizontalPodAutoscalers scale

    def services_named(self, name: str, namespace: Optional[str]) -> list[Service]:
        """Services called ``name`` in ``namespace`` (any namespace where either is unknown)."""
        return [s for s in self.services.get(name, ()) if _same_namespace(namespace, s.namespace)]

    def single_pod(self, service: Service) -> bool:
        """Whether every workload the Service selects runs exactly one pod (a
        bare Pod, or ``replicas: 1`` that no HorizontalPodAutoscaler changes):
        then it has nothing to balance."""
        if not service.selector:
            return False
        wanted = set(service.selector)
        backends = [w for w in self.workloads
                    if _same_namespace(w.namespace, service.namespace) and wanted <= set(w.labels)]
        return bool(backends) and all(w.kind == "Pod" or (w.replicas == 1 and w.name not in self.autoscaled)
                                      for w in backends)


def _same_namespace(a: Optional[str], b: Optional[str]) -> bool:
    return a is None or b is None or a == b


# ---- where and what ----
@lru_cache(maxsize=4096)
def repository_root(directory: str) -> str:
    """The nearest enclosing directory with ``.git`` or a cnlint config file,
    else ``directory``."""
    d = os.path.abspath(directory)
    while True:
        if any(os.path.exists(os.path.join(d, m)) for m in ROOT_MARKERS):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return os.path.abspath(directory)
        d = parent


@lru_cache(maxsize=64)
def yaml_files(root: str) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of the YAML files under ``root``: a bounded walk
    that skips hidden directories and dependencies."""
    out: list[tuple[str, int, int]] = []
    stack, dirs = [(root, 0)], 0
    while stack and len(out) < MAX_FILES and dirs < MAX_DIRS:
        d, depth = stack.pop()
        dirs += 1
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH and not e.name.startswith(".") and e.name not in SKIP_DIRS:
                        subdirs.append((e.path, depth + 1))
                elif e.name.endswith((".yaml", ".yml")) and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    if st.st_size <= MAX_FILE_SIZE:
                        out.append((e.path, st.st_mtime_ns, st.st_size))
            except OSError:
                continue
        stack.extend(reversed(subdirs))
    return tuple(out[:MAX_FILES])


def manifests_stamp(directory: str) -> str:
    """Stamps of the YAML files ``manifests_for(directory)`` reads: a cache key part."""
    root = repository_root(directory)
    return _stamp(root)


@lru_cache(maxsize=64)
def _stamp(root: str) -> str:
    return "|".join(f"{p}:{m}:{s}" for p, m, s in yaml_files(root))


def manifests_for(directory: str) -> Manifests:
    return _load(repository_root(directory))


@lru_cache(maxsize=16)
def _load(root: str) -> Manifests:
    import yaml  # only a rule that follows a value into the manifests pays for it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    m = Manifests(root)
    paths = [p for p, _, _ in yaml_files(root)]
    namespaces = _kustomize_namespaces(paths, loader)
    for path in paths:
        if os.path.basename(path) in KUSTOMIZATIONS:
            continue
        text = _read(path)
        if text is None or "kind:" not in text:
            continue
        if "{{" in text:
            text = _render_template(text, _chart_values(path))
        for node, first_line in _documents(text, loader):
            _collect(m, node, path, first_line, namespaces.get(path))
    return m


# ---- reading ----
def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(MAX_FILE_SIZE + 1)
    except OSError:
        return None


def _documents(text: str, loader) -> Iterator[tuple[object, int]]:
    """(root node, first line) of each document that parses; the others are skipped."""
    import yaml

    seps = list(_DOC_SEP.finditer(text))
    starts = [0] + [m.end() + 1 for m in seps]
    ends = [m.start() for m in seps] + [len(text)]
    line, counted = 0, 0
    for start, end in zip(starts, ends):
        chunk = text[start:end]
        kind = _KIND.search(chunk)
        if kind is None or kind.group(1) in SKIP_KINDS:
            continue  # not an object, or one without containers or ports (CRDs are large: never composed)
        line += text.count("\n", counted, start)
        counted = start
        try:
            node = yaml.compose(chunk, Loader=loader)
        except (yaml.YAMLError, ValueError, RecursionError):
            continue
        if isinstance(node, yaml.MappingNode):
            yield node, line


def _render_template(text: str, values: Optional[dict]) -> str:
    """A Helm template made YAML, line for line: action-only lines blanked,
    ``.Values`` paths replaced by their scalar, other expressions by UNKNOWN."""
    text = _ACTION_LINE.sub("", text)

    def expr(m: re.Match) -> str:
        body = m.group(1)
        vm = _VALUES_PATH.match(body)
        if vm and values is not None:
            value: object = values
            for key in vm.group(1).strip(".").split("."):
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
        return UNKNOWN if "\n" not in m.group(0) else UNKNOWN + "\n" * m.group(0).count("\n")

    return _ACTION.sub(expr, text)


@lru_cache(maxsize=64)
def _values_file(chart: str) -> Optional[dict]:
    import yaml

    text = _read(os.path.join(chart, "values.yaml"))
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if text else None
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _chart_values(path: str) -> Optional[dict]:
    """The values.yaml of the Helm chart a template belongs to (``<chart>/templates/...``)."""
    d = os.path.dirname(path)
    while os.path.basename(d) != "templates":
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent
    chart = os.path.dirname(d)
    return _values_file(chart) if os.path.exists(os.path.join(chart, "Chart.yaml")) else None


def _kustomize_namespaces(paths: list[str], loader) -> dict[str, Optional[str]]:
    """Files listed (directly, or through a directory) by kustomizations ->
    the namespace a kustomization that lists them sets (None: none set)."""
    import yaml

    out: dict[str, Optional[str]] = {}
    for path in paths:
        if os.path.basename(path) not in KUSTOMIZATIONS:
            continue
        try:
            data = yaml.load(_read(path) or "", Loader=loader)
        except yaml.YAMLError:
            continue
        if not isinstance(data, dict):
            continue
        ns = data.get("namespace") if isinstance(data.get("namespace"), str) else None
        base = os.path.dirname(path)
        for entry in (data.get("resources") or []) + (data.get("bases") or []):
            if not isinstance(entry, str) or "://" in entry or entry.startswith(("github.com/", "git@")):
                continue
            target = os.path.normpath(os.path.join(base, entry))
            for f in _kustomize_files(target):
                if ns is not None or f not in out:
                    out[f] = ns
    return out


def _kustomize_files(target: str) -> list[str]:
    if os.path.isfile(target):
        return [target]
    if not os.path.isdir(target):
        return []
    try:
        names = sorted(os.listdir(target))
    except OSError:
        return []
    return [os.path.join(target, n) for n in names
            if n.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(target, n))]


# ---- what a document says ----
def _scalar(node) -> Optional[str]:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return None if UNKNOWN in node.value else node.value
    return None


def _get(node, key: str):
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _collect(m: Manifests, doc, path: str, first_line: int, kustomize_ns: Optional[str]) -> None:
    import yaml

    meta = _get(doc, "metadata")
    ns_node = _get(meta, "namespace")
    namespace = _scalar(ns_node) if ns_node is not None else kustomize_ns
    name_node = _get(meta, "name")
    name = _scalar(name_node) or ""
    kind = _scalar(_get(doc, "kind")) or ""
    spec = _get(doc, "spec")
    if kind == "HorizontalPodAutoscaler":
        target = _scalar(_get(_get(spec, "scaleTargetRef"), "name"))
        if target:
            m.autoscaled.add(target)
        return
    if kind in REPLICATED or kind == "Pod":
        labels = _labels(_get(_get(_get(spec, "template"), "metadata"), "labels") if kind != "Pod"
                         else _get(meta, "labels"))
        replicas = _scalar(_get(spec, "replicas")) if kind != "Pod" else "1"
        m.workloads.append(Workload(kind, name, namespace, labels or (),
                                    int(replicas) if replicas and replicas.isdigit() else None))
    if kind == "Service" and name and (_scalar(_get(doc, "apiVersion")) or "v1") == "v1":  # not Knative's
        cluster_ip = _get(spec, "clusterIP")
        headless = None if cluster_ip is not None and _scalar(cluster_ip) is None \
            else (_scalar(cluster_ip) or "").strip().lower() == "none"
        ports = []
        for p in getattr(_get(spec, "ports"), "value", None) or ():
            value = _scalar(_get(p, "port"))
            if value is not None and value.isdigit():
                ports.append(int(value))
        line = first_line + (name_node or doc).start_mark.line
        m.services.setdefault(name, []).append(Service(name, namespace, headless, _scalar(_get(spec, "type"))
                                                       or "ClusterIP", tuple(ports),
                                                       _labels(_get(spec, "selector")), Place(path, line)))
        return
    for container in _containers(doc):
        for entry in getattr(_get(container, "env"), "value", None) or ():
            env_name = _scalar(_get(entry, "name"))
            if env_name:
                value_node = _get(entry, "value")
                value = _scalar(value_node) if value_node is not None else None
                place = Place(path, first_line + entry.start_mark.line)
                m.env.setdefault(env_name, []).append(EnvEntry(env_name, value, namespace, name, place))
        for key in ("command", "args"):
            items = getattr(_get(container, key), "value", None) or ()
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items):
                text = _scalar(item) if isinstance(item, yaml.ScalarNode) else None
                if not text or not text.startswith("-"):
                    continue
                flag, eq, value = text.lstrip("-").partition("=")
                if not eq:
                    nxt = items[i + 1] if i + 1 < len(items) else None
                    value = _scalar(nxt) if isinstance(nxt, yaml.ScalarNode) else None
                    if value is not None and value.startswith("-"):
                        value = None
                place = Place(path, first_line + item.start_mark.line)
                m.flags.setdefault(flag, []).append(EnvEntry(flag, value, namespace, name, place))


def _labels(node) -> Optional[tuple[tuple[str, str], ...]]:
    """A literal string map (labels, a selector); None when absent or any value is unknown."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    out = []
    for k, v in node.value:
        key, value = _scalar(k), _scalar(v)
        if key is None or value is None:
            return None
        out.append((key, value))
    return tuple(sorted(out))


def _containers(doc) -> Iterator:
    """Every container mapping under ``containers``/``initContainers`` anywhere in the document."""
    import yaml

    stack, seen = [doc], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # an alias: walked once (nested aliases would otherwise expand exponentially)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value in ("containers", "initContainers") \
                        and isinstance(v, yaml.SequenceNode):
                    yield from (c for c in v.value if isinstance(c, yaml.MappingNode))
                else:
                    stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def clear() -> None:
    for cached in (repository_root, yaml_files, _stamp, _load, _values_file):
        cached.cache_clear()


on_clear(clear)
