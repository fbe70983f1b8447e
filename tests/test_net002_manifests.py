"""NET002 follows gRPC targets from the environment to the repository's
Kubernetes manifests (cnlint.k8s_manifests): what is read, what is skipped, and
the result cache that must notice a manifest change."""

import json

import pytest

from cnlint import k8s_manifests
from cnlint.project import clear_caches
from conftest import cnlint, write

GO_CLIENT = """
package main

import (
    "os"

    "google.golang.org/grpc"
    "google.golang.org/grpc/credentials/insecure"
)

func main() {
    addr := os.Getenv("CATALOG_ADDR")
    conn, _ := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
    defer conn.Close()
}
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend}
spec:
  template:
    spec:
      containers:
        - name: server
          env:
            - name: CATALOG_ADDR
              value: "catalog:3550"
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: catalog
spec:
  ports: [{port: 3550}]
"""


@pytest.fixture(autouse=True)
def fresh_facts():
    clear_caches()  # each test writes its own repository at a reused tmp path
    yield
    clear_caches()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"src/main.go": GO_CLIENT, "deploy/frontend.yaml": DEPLOYMENT, "deploy/catalog.yaml": SERVICE})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(*args):
    out = cnlint("check", "-j", "1", "--isolated", "--select", "NET002", "--format", "json", *args)
    return json.loads(out.stdout)["findings"]


def test_env_target_is_followed_to_the_service_with_related_manifest_lines(repo):
    (found,) = findings("--no-cache", "src")
    assert found["start"]["line"] == 12
    assert "`$CATALOG_ADDR` is `catalog:3550` in deploy/frontend.yaml" in found["message"]
    related = {(r["path"], r["start"]["line"]) for r in found["related"]}
    assert ("deploy/frontend.yaml", 10) in related  # - name: CATALOG_ADDR
    assert ("deploy/catalog.yaml", 4) in related  # name: catalog
    assert ("src/main.go", 11) in related  # os.Getenv


def test_sarif_related_locations_point_at_the_manifests(repo):
    out = cnlint("check", "-j", "1", "--isolated", "--no-cache", "--select", "NET002", "--format", "sarif", "src")
    (result,) = json.loads(out.stdout)["runs"][0]["results"]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for loc in result["relatedLocations"]}
    assert {"deploy/frontend.yaml", "deploy/catalog.yaml"} <= uris


def test_headless_service_and_unknown_cluster_ip_stay_quiet(repo):
    write(repo, {"deploy/catalog.yaml": SERVICE + "  clusterIP: None\n"})
    assert findings("--no-cache", "src") == []
    clear_caches()
    write(repo, {"deploy/catalog.yaml": "{{- if .Values.on }}\n" + SERVICE + "  clusterIP: {{ .Values.ip }}\n"})
    assert findings("--no-cache", "src") == []


def test_cache_is_invalidated_when_a_manifest_changes(repo, counted):
    assert len(findings("src")) == 1
    counted.clear()
    assert len(findings("src")) == 1
    assert counted == []  # a cache hit
    clear_caches()  # what a new process (or the language server on a watched change) starts with
    write(repo, {"deploy/catalog.yaml": SERVICE + "  clusterIP: None\n"})
    assert findings("src") == []
    assert counted == ["src/main.go"]


def test_manifests_are_not_read_for_literal_targets(repo, monkeypatch):
    write(repo, {"src/main.go": GO_CLIENT.replace("addr := os.Getenv(\"CATALOG_ADDR\")", "addr := \"\"")
                 .replace("NewClient(addr", "NewClient(\"localhost:3550\"")})

    def boom(root):
        raise AssertionError("manifests read for a literal target")

    monkeypatch.setattr(k8s_manifests, "_load", boom)
    assert findings("--no-cache", "src") == []


def test_multi_document_files_helm_templates_and_kustomize(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        "all.yaml": DEPLOYMENT + "---\nnot: [valid\n---\n" + SERVICE,
        "chart/Chart.yaml": "name: c\n",
        "chart/values.yaml": "catalog:\n  name: catalog2\n",
        "chart/templates/svc.yaml": "{{- if true }}\n" + SERVICE.replace("name: catalog", "name: {{ .Values.catalog.name }}")
                                    + "{{- end }}\n",
        "chart/templates/broken.yaml": "kind: Service\nmetadata: {{ include \"x\" . }}\n  name: [\n",
        "kz/kustomization.yaml": "namespace: shop\nresources: [svc.yaml]\n",
        "kz/svc.yaml": SERVICE.replace("name: catalog", "name: catalog3"),
    })
    m = k8s_manifests.manifests_for(str(tmp_path))
    assert [e.value for e in m.env["CATALOG_ADDR"]] == ["catalog:3550"]
    assert m.services["catalog"][0].place.line == 18  # 0-based, after the skipped document
    (helm,) = m.services["catalog2"]
    assert helm.namespace is None and helm.headless is False and helm.place.line == 5
    assert m.services["catalog3"][0].namespace == "shop"
    assert m.services_named("catalog3", "other") == []


def test_walk_is_bounded_and_skips_dependencies(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {f"d{i}/s.yaml": SERVICE for i in range(5)})
    write(tmp_path, {"node_modules/x/s.yaml": SERVICE, "vendor/s.yaml": SERVICE, ".github/s.yaml": SERVICE})
    paths = [p for p, _, _ in k8s_manifests.yaml_files(str(tmp_path))]
    assert len(paths) == 5 and all("/d" in p for p in paths)
    clear_caches()
    monkeypatch.setattr(k8s_manifests, "MAX_FILES", 2)
    assert len(k8s_manifests.yaml_files(str(tmp_path))) == 2


def test_repository_root_is_the_vcs_root_or_a_cnlint_config(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"a/b/c.go": "package c\n", "sub/cnlint.toml": "", "sub/x/y.go": "package y\n"})
    assert k8s_manifests.repository_root(str(tmp_path / "a" / "b")) == str(tmp_path)
    assert k8s_manifests.repository_root(str(tmp_path / "sub" / "x")) == str(tmp_path / "sub")


def test_nested_aliases_are_walked_once(tmp_path):
    """A hostile manifest (a billion-laughs tower of aliases) costs its size, not 2**40."""
    (tmp_path / ".git").mkdir()
    lines = ["kind: Deployment", "a0: &a0 {containers: [{name: c, env: [{name: X_ADDR, value: 'svc:1'}]}]}"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 41)]
    write(tmp_path, {"bomb.yaml": "\n".join(lines) + "\n"})
    m = k8s_manifests.manifests_for(str(tmp_path))
    assert [e.value for e in m.env["X_ADDR"]] == ["svc:1"]


def test_cache_covers_the_package_files_a_target_is_followed_into(repo, counted):
    write(repo, {
        "src/main.go": """
            package main

            import (
                "google.golang.org/grpc"
                "google.golang.org/grpc/credentials/insecure"
            )

            func dial(addr string) (*grpc.ClientConn, error) {
                return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
            }
            """,
        "src/config.go": 'package main\n\nimport "os"\n\nfunc init() { dial(os.Getenv("CATALOG_ADDR")) }\n',
    })
    (found,) = findings("src")
    assert found["path"] == "src/main.go"
    assert {"path": "src/config.go", "line": 5} in [{"path": r["path"], "line": r["start"]["line"]}
                                                     for r in found["related"]]
    counted.clear()
    write(repo, {"src/config.go": 'package main\n\nimport "os"\n\nfunc init() { dial(os.Getenv("OTHER_ADDR")) }\n'})
    assert findings("src") == []
    assert sorted(counted) == ["src/config.go", "src/main.go"]


@pytest.mark.parametrize("value, expected", [
    ("catalog:3550", ("catalog", None, 3550, False)),
    ("dns:///catalog.shop.svc.cluster.local:3550", ("catalog", "shop", 3550, True)),
    ("catalog.shop:3550", ("catalog", "shop", 3550, False)),
    ("10.0.0.7:3550", None),
    ("localhost:3550", None),
    ("[::1]:3550", None),
    ("xds:///catalog:3550", None),
    ("catalog-0.catalog.shop.svc:3550", None),  # one pod on purpose
    ("api.example.com:443", None),
])
def test_which_manifest_values_name_a_service(value, expected):
    from cnlint.rules.network.grpc_balancing import service_reference

    ref = service_reference(value)
    assert (ref and (ref.service, ref.namespace, ref.port, ref.has_dns_scheme)) == expected
