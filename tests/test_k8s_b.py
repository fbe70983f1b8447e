"""K8S006-K8S010 beyond their fixtures: the K8S010 and K8S007 fixes end to end
through the CLI, options, and the Go duration helpers."""

import json
import shutil
import textwrap

import pytest
from click.testing import CliRunner

from cnlint.cli import main

WATCHERS = textwrap.dedent('''\
    from kubernetes import client, dynamic, watch

    v1 = client.CoreV1Api()


    def pods(namespace):
        w = watch.Watch()
        for event in w.stream(v1.list_namespaced_pod, namespace=namespace):
            print(event["type"])


    class Sync:
        def run(self):
            for event in watch.Watch().stream(
                v1.list_namespaced_config_map,
                "kube-system",
                field_selector="metadata.name=cluster-info",
            ):
                print(event["type"])


    def logs(name, namespace):
        for line in watch.Watch().stream(v1.read_namespaced_pod_log, name, namespace):
            print(line)


    def deployments():
        dyn = dynamic.DynamicClient(client.ApiClient())
        api = dyn.resources.get(api_version="apps/v1", kind="Deployment")
        for event in api.watch(namespace="default"):
            print(event["type"])


    def bounded(namespace):
        for event in watch.Watch().stream(v1.list_namespaced_pod, namespace, timeout_seconds=60):
            print(event["type"])
''')


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "watchers.py").write_text(WATCHERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(*paths):
    r = run("check", *paths, "--select", "K8S010", "--format", "json", "--no-cache", "--exit-zero")
    data = json.loads(r.stdout)
    rows = data["findings"] if isinstance(data, dict) else data
    return rows


def test_k8s010_reports_each_unbounded_watch(project):
    rows = findings("watchers.py")
    assert sorted(f["rule_id"] for f in rows) == ["K8S010"] * 4
    messages = " ".join(f["message"] for f in rows)
    assert "log stream" in messages and "dynamic-client watch" in messages


def test_k8s010_fix_needs_unsafe_fixes(project):
    before = (project / "watchers.py").read_text()
    r = run("check", "watchers.py", "--select", "K8S010", "--fix", "--no-cache")
    assert (project / "watchers.py").read_text() == before  # unsafe: --fix alone changes nothing
    assert r.exit_code == 1


def test_k8s010_diff_shows_the_unsafe_fix(project):
    before = (project / "watchers.py").read_text()
    r = run("check", "watchers.py", "--select", "K8S010", "--diff", "--unsafe-fixes", "--no-cache")
    assert (project / "watchers.py").read_text() == before  # --diff writes nothing
    out = r.stdout
    assert "+    for event in w.stream(v1.list_namespaced_pod, namespace=namespace, timeout_seconds=300):" in out
    # one argument per line with a trailing comma keeps its layout and indentation
    assert '+            timeout_seconds=300,\n' in out
    assert "+    for event in api.watch(namespace=\"default\", timeout=300):" in out
    assert "read_namespaced_pod_log, name, namespace, timeout" not in out  # log streams get no fix


def test_k8s010_fix_unsafe_fixes_end_to_end(project):
    r = run("check", "watchers.py", "--select", "K8S010", "--fix", "--unsafe-fixes", "--no-cache")
    fixed = (project / "watchers.py").read_text()
    assert "w.stream(v1.list_namespaced_pod, namespace=namespace, timeout_seconds=300)" in fixed
    assert (
        "        for event in watch.Watch().stream(\n"
        "            v1.list_namespaced_config_map,\n"
        "            \"kube-system\",\n"
        "            field_selector=\"metadata.name=cluster-info\",\n"
        "            timeout_seconds=300,\n"
        "        ):\n") in fixed
    assert 'api.watch(namespace="default", timeout=300)' in fixed
    compile(fixed, "watchers.py", "exec")
    # only the log stream (no fix) is left, and a second run changes nothing
    rows = findings("watchers.py")
    assert [f["message"].startswith("this log stream") for f in rows] == [True]
    assert r.exit_code == 1
    run("check", "watchers.py", "--select", "K8S010", "--fix", "--unsafe-fixes", "--no-cache")
    assert (project / "watchers.py").read_text() == fixed


def test_k8s010_fix_uses_the_options(project):
    (project / "cnlint.toml").write_text("[options.K8S010]\ntimeout-seconds = 600\nrequest-timeout = 660\n")
    run("check", "watchers.py", "--select", "K8S010", "--fix", "--unsafe-fixes", "--no-cache")
    fixed = (project / "watchers.py").read_text()
    assert "namespace=namespace, timeout_seconds=600, _request_timeout=660)" in fixed
    assert "timeout_seconds=600,\n            _request_timeout=660,\n        ):" in fixed
    assert 'api.watch(namespace="default", timeout=600)' in fixed


def test_k8s010_rule_option_on_the_command_line(project):
    r = run("check", "watchers.py", "--select", "K8S010", "--diff", "--unsafe-fixes", "--no-cache",
            "--rule-option", "K8S010.timeout-seconds=120")
    assert "timeout_seconds=120" in r.stdout


def test_k8s007_lock_fix_is_unsafe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.go").write_text(textwrap.dedent('''\
        package main

        import (
        \t"k8s.io/client-go/kubernetes"
        \t"k8s.io/client-go/tools/leaderelection/resourcelock"
        )

        func lock(cs kubernetes.Interface, id string) (resourcelock.Interface, error) {
        \treturn resourcelock.New(resourcelock.ConfigMapsLeasesResourceLock, "ns", "name",
        \t\tcs.CoreV1(), cs.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
        }
        '''))
    run("check", "main.go", "--select", "K8S007", "--fix", "--no-cache")
    assert "ConfigMapsLeasesResourceLock" in (tmp_path / "main.go").read_text()
    run("check", "main.go", "--select", "K8S007", "--fix", "--unsafe-fixes", "--no-cache")
    assert "resourcelock.New(resourcelock.LeasesResourceLock," in (tmp_path / "main.go").read_text()


def test_fixture_folders_pass_through_test_rules(tmp_path):
    from cnlint.testing import builtin_fixtures_dir

    src = builtin_fixtures_dir()
    for rid in ("K8S006", "K8S007", "K8S008", "K8S009", "K8S010"):
        shutil.copytree(f"{src}/{rid}", tmp_path / rid)
    r = run("test-rules", str(tmp_path))
    assert r.exit_code == 0, r.stdout
    assert "5 passed, 0 failed" in r.stdout


def test_explain_pages():
    for rid, words in (("K8S006", "DeepCopy"), ("K8S007", "JitterFactor"), ("K8S008", "ApiClient"),
                       ("K8S009", "PollUntilContextTimeout"), ("K8S010", "_request_timeout")):
        r = run("explain", rid)
        assert r.exit_code == 0 and words in r.stdout
        assert r.stdout.index("## What it does") < r.stdout.index("## How to fix")


# ---- helpers ----

