"""NET002: gRPC targets that the repository's Kubernetes manifests set.

A client reads its target from an environment variable or a flag (a
``ConfigKey``, found by the language backends); the manifests
(``cnlint.k8s_manifests``) say which values the key gets and which Services
those values name. ``manifest_targets`` keeps the normal ClusterIP Services
with more than one pod, and the helpers below turn them into the message and
the related locations of a finding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from cnlint.k8s_manifests import Manifests, Place, Service, manifests_for
from cnlint.model import Location
from cnlint.project import on_clear
from cnlint.source import SourceFile

from .grpc_balancing import service_reference

#: Services whose ClusterIP kube-proxy balances per connection (ExternalName has none).
CLUSTER_IP_TYPES = {"ClusterIP", "NodePort", "LoadBalancer"}


@dataclass(frozen=True)
class ConfigKey:
    """Where a target is read from: an environment variable or a command-line flag."""

    kind: str  # "env" | "flag"
    name: str
    default: Optional[str] = None  # the literal the code falls back to

    def __str__(self) -> str:
        return f"`${self.name}`" if self.kind == "env" else f"the flag `--{self.name}`"


@dataclass(frozen=True)
class ManifestTarget:
    key: ConfigKey
    value: str
    setting: Optional[Place]  # the env entry or argument; None when the code's default applies
    workload: str  # the Deployment (...) whose container has the setting
    service: Service
    has_dns_scheme: bool

    def rank(self, source_parts: set[str]) -> tuple:
        """Which settings to show first: the workload named like a directory of
        the source file (src/frontend -> frontend), plain manifests before Helm
        templates, the Service in the same file."""
        setting = self.setting
        return (self.workload not in source_parts, setting is None or "/templates/" in setting.path,
                setting is None or setting.path != self.service.place.path,
                setting.path if setting else "", setting.line if setting else 0)


def manifest_targets(keys: list[ConfigKey], source: str) -> list[ManifestTarget]:
    """The ClusterIP Services the manifests of the repository of ``source``
    (a file's absolute path) point ``keys`` at, each with the env entry or
    argument that sets it, the likeliest first; only those of the workload
    named like a directory of ``source`` when there is one."""
    manifests = manifests_for(os.path.dirname(source))
    parts = set(os.path.relpath(source, manifests.root).split(os.sep)[:-1])
    out = [t for key in keys for t in _key_targets(manifests, key, parts)]
    return sorted(out, key=lambda t: t.rank(parts))


def _key_targets(manifests: Manifests, key: ConfigKey, source_parts: set[str]) -> list[ManifestTarget]:
    """The ClusterIP Services the settings of one key name; none when any of
    them names a headless Service or one whose ``clusterIP`` is a template
    expression: its authors balance, or cnlint cannot tell. The code's default
    counts only when no manifest sets the key."""
    entries = (manifests.env if key.kind == "env" else manifests.flags).get(key.name, [])
    # in a monorepo, the workload named like a directory of the source (src/frontend -> frontend) runs
    # this code: another program's variable of the same name says nothing about it
    entries = [e for e in entries if e.workload in source_parts] or entries
    settings = [(e.value, e.namespace, e.place, e.workload) for e in entries if e.value is not None]
    if not entries and key.default:
        settings = [(key.default, None, None, "")]
    out: list[ManifestTarget] = []
    for value, namespace, place, workload in settings:
        ref = service_reference(value)
        if ref is None:
            continue  # an address outside the cluster, or another resolver
        found = [s for s in manifests.services_named(ref.service, ref.namespace or namespace)
                 if ref.port is None or not s.ports or ref.port in s.ports]
        if any(s.headless is not False for s in found):
            return []
        out.extend(ManifestTarget(key, value, place, workload, s, ref.has_dns_scheme)
                   for s in found if s.type in CLUSTER_IP_TYPES and not manifests.single_pod(s))
    return out


def manifest_location(place: Place, like: str) -> Location:
    """A related location on a manifest line (its text without the indentation)."""
    source = _source(place.path)
    line = min(place.line, len(source.line_starts) - 1)
    start, text = source.line_starts[line], source.line_bytes(line)
    return file_location(place.path, start + len(text) - len(text.lstrip()), start + len(text), like)


def file_location(path: str, start: int, end: int, like: str) -> Location:
    """A related location in another file, its path written the way ``like``
    (the checked file's path) is: relative to the working directory or absolute."""
    shown = path if os.path.isabs(like) else os.path.relpath(path)
    return Location(shown.replace(os.sep, "/"), _source(path).span(start, end))


@lru_cache(maxsize=256)
def _source(path: str) -> SourceFile:
    try:
        with open(path, "rb") as f:
            return SourceFile(path, f.read())
    except OSError:
        return SourceFile(path, b"")


on_clear(_source.cache_clear)  # the language server re-reads changed manifests


def describe_targets(targets: list[ManifestTarget], source: str) -> str:
    """For the message: "`$X_ADDR` is `svc:3550` in deploy/frontend.yaml, the
    ClusterIP Service `svc`", and how many other Services the client reaches."""
    first = targets[0]
    if first.setting is not None:
        where = os.path.relpath(first.setting.path, manifests_for(os.path.dirname(source)).root).replace(os.sep, "/")
        said = f"{first.key} is `{first.value}` in {where}"
    else:
        said = f"{first.key} defaults to `{first.value}`"
    names = sorted({t.service.name for t in targets} - {first.service.name})
    others = f" (and {len(names)} more: {', '.join(f'`{n}`' for n in names[:3])}{', ...' if len(names) > 3 else ''})" \
        if names else ""
    return f"{said}, the ClusterIP Service `{first.service.name}`{others}"


def related_locations(targets: list[ManifestTarget], like: str, limit: int = 4) -> list[tuple[Location, str]]:
    """The setting (env entry or argument) and the Service of up to ``limit``
    Services, the first-ranked setting of each."""
    out, shown = [], set()
    for t in targets:
        if t.service.name in shown or len(shown) == limit:
            continue
        shown.add(t.service.name)
        if t.setting is not None:
            out.append((manifest_location(t.setting, like), f"{t.key} is set to {t.value} here"))
        out.append((manifest_location(t.service.place, like), f"the ClusterIP Service {t.service.name}"))
    return out
