"""cnlint.python: the Kubernetes client package table every Python K8S rule
uses, and the argument and literal helpers."""

import json
import textwrap

import libcst as cst
import pytest
from click.testing import CliRunner

from cnlint.cli import main
from cnlint.python import (
    K8S_CLIENT_PACKAGES, argument, bool_value, full_name, has_star_args, is_k8s_name, is_none, k8s_client_member,
    keyword_arg, positional_args, string_value,
)


def call(code: str) -> cst.Call:
    node = cst.parse_expression(code)
    assert isinstance(node, cst.Call)
    return node


@pytest.mark.parametrize("qname, member", [
    ("kubernetes.client.CoreV1Api", "client.CoreV1Api"),
    ("kubernetes.aio.client.CoreV1Api", "client.CoreV1Api"),
    ("kubernetes_asyncio.watch.Watch", "watch.Watch"),
    ("kubernetes.aio.watch.watch.Watch", "watch.watch.Watch"),
    ("kubernetes", ""), ("kubernetes.aio", ""), ("kubernetes_asyncio", ""),
    ("kubernetesx.client", None), ("kube.client", None), ("my.kubernetes.client", None),
])
def test_client_members(qname, member):
    assert k8s_client_member(qname) == member
    assert is_k8s_name(qname) == bool(member)


def test_the_table_lists_every_client():
    assert set(K8S_CLIENT_PACKAGES) == {"kubernetes", "kubernetes.aio", "kubernetes_asyncio"}


def test_arguments():
    c = call("f(a, b, *rest, timeout=3, **kw)")
    assert [full_name(a.value) for a in positional_args(c)] == ["a", "b"]
    assert keyword_arg(c, "timeout").value.value == "3"
    assert keyword_arg(c, "missing") is None
    assert argument(c, "x", 1).value.value == "b"
    assert argument(c, "timeout", 0).keyword.value == "timeout"  # the keyword wins
    assert argument(c, "y", 5) is None and argument(c, "y") is None
    assert has_star_args(c) and has_star_args(c, "*") and has_star_args(c, "**")
    assert not has_star_args(call("f(*a)"), "**") and not has_star_args(call("f(a, k=1)"))


@pytest.mark.parametrize("code, value", [
    ('"a"', "a"), ("'a' \"b\"", "ab"), ('r"\\d"', "\\d"), ('b"a"', None), ('f"{x}"', None), ("x", None),
])
def test_string_value(code, value):
    assert string_value(cst.parse_expression(code)) == value


@pytest.mark.parametrize("code, plain, numbers", [
    ("True", True, True), ("False", False, False), ("0", None, False), ("1", None, True), ("x", None, None),
    ("None", None, None), ('"False"', None, None),
])
def test_bool_value(code, plain, numbers):
    node = cst.parse_expression(code)
    assert bool_value(node) is plain
    assert bool_value(node, numbers=True) is numbers


def test_is_none_and_full_name():
    assert is_none(cst.parse_expression("None")) and not is_none(cst.parse_expression("none"))
    assert full_name(cst.parse_expression("a.b().c[0]")) == "a.b.c"
    assert full_name(cst.parse_expression("1 + 2")) is None


# Each Python K8S rule on the kubernetes.aio client (the official asyncio client).
AIO = {
    "K8S008": '''
        from fastapi import FastAPI
        from kubernetes.aio import client, config

        app = FastAPI()


        @app.get("/pods")
        async def pods():
            await config.load_kube_config()
            return await client.CoreV1Api().list_pod_for_all_namespaces()
    ''',
    "K8S009": '''
        import asyncio

        from kubernetes.aio import client


        async def wait_ready(v1: client.CoreV1Api, name):
            while True:
                pod = await v1.read_namespaced_pod(name, "default")
                if pod.status.phase == "Running":
                    return
                await asyncio.sleep(5)
    ''',
    "K8S010": '''
        from kubernetes.aio import client, watch


        async def pods():
            v1 = client.CoreV1Api()
            async for event in watch.Watch().stream(v1.list_namespaced_pod, "default"):
                print(event)
    ''',
}


@pytest.mark.parametrize("rule_id", sorted(AIO))
def test_rules_recognise_kubernetes_aio(rule_id, tmp_path, monkeypatch):
    for package in ("kubernetes.aio", "kubernetes_asyncio", "kubernetes"):
        source = textwrap.dedent(AIO[rule_id]).replace("kubernetes.aio", package)
        (tmp_path / "app.py").write_text(source)
        monkeypatch.chdir(tmp_path)
        r = CliRunner().invoke(main, ["check", "app.py", "--isolated", "--no-cache", "--select", rule_id,
                                      "--format", "json"])
        found = [f["rule_id"] for f in json.loads(r.output)["findings"]]
        assert found and set(found) == {rule_id}, (package, r.output)
