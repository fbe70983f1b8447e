"""NET002 grpc-without-client-load-balancing: the metadata every backend shares,
and the reading of a gRPC target string.

Checks: ``grpc_balancing_go.py`` (tree-sitter, Go) and ``grpc_balancing_py.py``
(libcst, Python); targets read from the environment or a flag are followed to
the repository's manifests by ``grpc_manifest_targets.py`` (and, in Go, to
their reads by ``grpc_config_go.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from cnlint import Rule
from cnlint.k8s_manifests import manifests_stamp

#: Text that shows a load-balancing policy other than pick_first is configured.
LB_MARKERS = ("round_robin", "least_request", "ring_hash", "loadBalancingConfig",
              "loadBalancingPolicy", "lb_policy_name", "WithBalancerName")
#: The marker a headless Service's name carries by convention.
HEADLESS_SUFFIX = "-headless"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.*)$", re.S)
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_KNOWN_SCHEMES = {"dns", "passthrough", "unix", "unix-abstract", "xds", "vsock", "ipv4", "ipv6",
                  "kubernetes", "k8s", "consul", "etcd", "static", "google-c2p"}
#: Last labels of public or local names, which `name.namespace:port` must not end with.
_NOT_NAMESPACES = {
    "com", "net", "org", "io", "dev", "app", "ai", "co", "cloud", "info", "biz", "me", "us", "uk", "de",
    "fr", "jp", "cn", "ru", "in", "eu", "nl", "ch", "se", "no", "fi", "es", "it", "pl", "br", "au", "ca",
    "tech", "xyz", "site", "online", "gov", "edu", "mil", "int", "sh", "tv", "cc", "ly", "gg", "so",
    "local", "localhost", "localdomain", "internal", "lan", "home", "corp", "example", "test", "invalid",
    "arpa", "onion", "svc",
}


@dataclass(frozen=True)
class ServiceTarget:
    target: str  # the literal as written
    host: str  # without scheme and port
    port: Optional[str]
    service: str
    namespace: str
    has_dns_scheme: bool

    def dns_form(self, service: Optional[str] = None) -> str:
        host = self.host if service is None else ".".join([service] + self.host.split(".")[1:])
        return f"dns:///{host}" + (f":{self.port}" if self.port else "")


def kubernetes_service(target: str) -> Optional[ServiceTarget]:
    """The Kubernetes Service a target string names, if it names one that
    client-side balancing applies to (not headless, not one pod, not a custom
    resolver); else None."""
    parsed = _dns_host(target)
    if parsed is None:
        return None
    dns, host, port, labels = parsed
    if "svc" in labels:
        i = labels.index("svc")
        if i != 2:
            return None  # "x.svc" is not a Service; "pod.service.ns.svc" names one pod
    elif not (len(labels) == 2 and port is not None and labels[1] not in _NOT_NAMESPACES
              and not labels[1].isdigit()):
        return None
    service, namespace = labels[0], labels[1]
    if service.endswith(HEADLESS_SUFFIX) or service == "headless":
        return None
    return ServiceTarget(target, host.rstrip("."), port, service, namespace, dns)


def _dns_host(target: str) -> Optional[tuple[bool, str, Optional[str], list[str]]]:
    """(has the dns scheme, host, port, lower-case DNS labels) of a target
    resolved by DNS; None for another resolver (passthrough:, xds:, unix:, a
    custom one) or a host that is not a DNS name."""
    rest, dns = target.strip(), False
    m = _SCHEME.match(rest)
    if m and (m.group(2).startswith("//") or m.group(1).lower() in _KNOWN_SCHEMES):
        if m.group(1).lower() != "dns":
            return None
        dns, rest = True, m.group(2)
        if rest.startswith("//"):
            rest = rest[2:].partition("/")[2]  # dns://[authority]/host:port
    host, port = _split_host_port(rest)
    if host is None:
        return None
    labels = host.lower().rstrip(".").split(".")
    if not all(_LABEL.match(label) for label in labels):
        return None
    return dns, host, port, labels


@dataclass(frozen=True)
class ServiceRef:
    """What a manifest value names: a Service, maybe its namespace and port."""

    service: str
    namespace: Optional[str]
    port: Optional[int]
    has_dns_scheme: bool


def service_reference(value: str) -> Optional[ServiceRef]:
    """The Service a target set in a manifest may name (``svc:3550``,
    ``dns:///svc.ns.svc.cluster.local:3550``); None for IP addresses,
    ``localhost``, other resolvers and names with more labels."""
    parsed = _dns_host(value)
    if parsed is None:
        return None
    dns, _, port, labels = parsed
    if all(label.isdigit() for label in labels) or labels[0] == "localhost":
        return None
    if ("svc" in labels and labels.index("svc") != 2) or (len(labels) > 2 and "svc" not in labels):
        return None  # one pod (pod.svc.ns.svc), or a name outside the cluster (api.example.com)
    return ServiceRef(labels[0], labels[1] if len(labels) > 1 else None, int(port) if port else None, dns)


def _split_host_port(hostport: str) -> tuple[Optional[str], Optional[str]]:
    if not hostport or hostport.startswith("["):
        return None, None  # IPv6 literal
    host, sep, port = hostport.rpartition(":")
    if not sep:
        return hostport, None
    if not port.isdigit() or ":" in host:
        return None, None
    return host, port


def has_lb_marker(text: str) -> bool:
    return any(m in text for m in LB_MARKERS)


class GrpcWithoutClientLoadBalancing(Rule):
    id = "NET002"
    name = "grpc-without-client-load-balancing"
    summary = "A gRPC client dials a Kubernetes Service without client-side load balancing"
    severity = "warning"
    tags = ("reliability", "performance", "network", "kubernetes", "grpc")
    precision = "high"
    help = """\
## What it does
Reports gRPC clients whose target names a Kubernetes Service — a string
literal, or an environment variable or flag that the repository's Kubernetes
manifests set (below) — and that are not set up for client-side load
balancing:

- **Go** (`google.golang.org/grpc`, import aliases resolved): `grpc.Dial`,
  `grpc.DialContext` and `grpc.NewClient`.
- **Python**: `grpc.insecure_channel`, `grpc.secure_channel`,
  `grpc.aio.insecure_channel` and `grpc.aio.secure_channel`.

A target names a Service when its host is `name.namespace.svc`,
`name.namespace.svc.cluster.local` (any cluster domain after `.svc`), or
`name.namespace:port` (two labels and a port, where the second label is not a
public or local top-level domain such as `com`, `io`, `local`, `internal`).

Balancing needs two things, and the message says which is missing:

1. **A load-balancing policy**: `grpc.WithDefaultServiceConfig` (Go) or the
   channel option `("grpc.service_config", ...)` (Python) with a
   `loadBalancingConfig`/`loadBalancingPolicy` such as `round_robin`, or the
   Python option `("grpc.lb_policy_name", "round_robin")`. The default policy,
   `pick_first`, sends every RPC over one connection.
2. **A resolver that returns every address**: the `dns:///` scheme. Go's
   `grpc.Dial`/`grpc.DialContext` use the `passthrough` resolver when the
   target has no scheme, which hands the name to the dialer as one address.
   `grpc.NewClient` (grpc-go 1.63+) and every Python channel (gRPC C-core)
   already default to the `dns` resolver, so only the policy is checked there.

### Targets from the environment or a flag
Real services read their targets from configuration:
`grpc.NewClient(addr)` after `addr := os.Getenv("CATALOG_ADDR")`,
`mustMapEnv(&svc.catalogAddr, "CATALOG_ADDR")`, `flag.String("catalog-addr", ...)`
or `flag.StringVar`, a struct field tagged `env:"CATALOG_ADDR"` or
`envconfig:"CATALOG_ADDR"`, Python `grpc.insecure_channel(addr)` after
`addr = os.environ.get("CATALOG_ADDR")`, `os.getenv`, `os.environ[...]` or
`parser.add_argument("--catalog-addr")`. In Go the value is followed through
local and package variables, struct fields and the parameters of a function
of the package (`mustConnGRPC(ctx, &conn, svc.catalogAddr)`, to each call
site, in any non-test file of the package); helpers named after the
environment (`getEnv("X", "default")`) count as reads. In Python it is
followed through the variables of the file and the parameters of its
functions and methods (`def channel(self, address)`, to each call site).
NET002 then looks the variable or flag up in the repository's Kubernetes
manifests (the nearest directory with `.git` or a cnlint config, walked once,
`vendor/`, `node_modules/` and hidden directories skipped):

- `env` entries (`- name: CATALOG_ADDR` / `value: "catalog:3550"`) and
  `--flag=value` arguments of the containers of Deployments, StatefulSets,
  DaemonSets, Jobs, CronJobs and Pods;
- kustomize: resources and bases listed by a `kustomization.yaml`, with its
  `namespace`;
- Helm charts: template lines that hold only an action (`{{- if }}`) are left
  out and `{{ .Values.a.b }}` takes the chart's `values.yaml` value; any other
  expression makes the value unknown, and a document that still does not parse
  is skipped.

When a workload is named like a directory of the source file
(`src/frontend/main.go` and the Deployment `frontend`), only its settings
count: in a monorepo another program's variable of the same name says nothing
about this one.

It reports when the value names a `Service` there (by `metadata.name`, in the
same namespace when both are known, on one of its ports) that is a normal
`ClusterIP` Service, and the client keeps `pick_first` (the checks above). The
related locations point at the `env` entry (or argument) and at the Service,
and at the line that reads the variable. When no manifest sets the variable or
flag, the default the code gives (`getEnv("X", "catalog:3550")`,
`flag.String(..., "catalog:3550", ...)`) is looked up instead.

## Why is this bad?
gRPC runs over HTTP/2, which multiplexes every RPC over one long-lived TCP
connection. A Kubernetes `ClusterIP` Service balances *connections* (kube-proxy
picks a pod when the connection opens), not requests, so every RPC of a client
goes to the one pod it first connected to. Adding replicas does not spread the
load: one pod runs hot while the others idle, and after a rollout or scale-up
the new pods get no traffic until clients reconnect. The Kubernetes blog post
[gRPC Load Balancing on Kubernetes without Tears](https://kubernetes.io/blog/2018/11/07/grpc-load-balancing-on-kubernetes-without-tears/)
describes the failure; the gRPC documentation on
[load balancing](https://grpc.io/blog/grpc-load-balancing/) and the
[name resolution](https://github.com/grpc/grpc/blob/master/doc/naming.md)
spec describe the two fixes, and grpc-go's
[`NewClient`](https://pkg.go.dev/google.golang.org/grpc#NewClient)
documentation notes that `Dial` uses `passthrough` by default.

## Example
```go
conn, err := grpc.Dial("orders.shop.svc.cluster.local:50051",
    grpc.WithTransportCredentials(insecure.NewCredentials()))
```

```python
channel = grpc.insecure_channel("orders.shop:50051")
```

## Use instead
Point the client at a **headless** Service (`clusterIP: None`, so DNS returns
one record per ready pod) and turn on `round_robin`:

```go
conn, err := grpc.NewClient("dns:///orders-headless.shop.svc.cluster.local:50051",
    grpc.WithTransportCredentials(insecure.NewCredentials()),
    grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`))
```

```python
channel = grpc.insecure_channel(
    "dns:///orders-headless.shop.svc.cluster.local:50051",
    options=[("grpc.lb_policy_name", "round_robin")],
)
```

## How to fix
Either balance in the client (a headless Service, the `dns:///` scheme and the
`round_robin` policy, as above; the DNS resolver re-resolves when connections
drop, and `MaxConnectionAge` on the server makes clients pick up new pods
sooner), or balance in the network: a service mesh (Linkerd, Istio) or an L7
proxy that balances HTTP/2 per request. If your cluster runs such a mesh, this
rule does not apply: turn it off with `ignore = ["NET002"]`.

What is not reported:

- Targets that are not string literals, unless they come from an
  environment variable or a flag that the repository's manifests set to a
  ClusterIP Service (above): other configuration (a file, a database), or a
  repository without manifests, does not tell the name.
- A variable whose manifests name a headless Service (`clusterIP: None`) or
  one whose `clusterIP` is a template expression, an address outside the
  cluster (`api.example.com:443`, an IP address), a value set with
  `valueFrom` (a ConfigMap or Secret), or a Service whose backends run one pod
  on purpose (a bare Pod, or `replicas: 1` that no HorizontalPodAutoscaler
  scales): nothing to balance.
- `passthrough:`, `xds:`, `unix:` and any other resolver scheme than `dns`
  (xDS and custom resolvers balance themselves), `localhost` and IP
  addresses, names that are not Services (`api.example.com:443`).
- Headless Services named by the convention the Kubernetes and Helm
  ecosystems use (StatefulSet and Bitnami charts): a Service name ending in
  `-headless`, e.g. `dns:///orders-headless.shop.svc:50051`. (cnlint cannot see
  the Service's `clusterIP: None`, so it trusts the name.)
- A name with a label before the Service (`orders-0.orders.shop.svc`), which
  addresses one pod on purpose.
- Go options passed as a slice (`opts...`) that is not built in the same
  function, and Python `options` given as a variable that is not a literal in
  the same module, unless the file shows no policy at all: the policy may be
  in them. The `dns:///` check still applies.
"""

    def cache_inputs(self, directory: str) -> str:
        return manifests_stamp(directory)  # the manifests a configured target is followed to
