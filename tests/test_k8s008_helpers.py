"""K8S008 through the project's own helpers: a Go package's helper in another
file, edits of that file seen by later runs in the same process (the language
server, the result cache), and Python helpers declared below their callers."""

import json
import os
import textwrap

import pytest
from conftest import cnlint

HELPER = """
package web

import (
\t"k8s.io/client-go/kubernetes"
\t"k8s.io/client-go/rest"
)

func GenerateK8sClient() *kubernetes.Clientset {
\tcfg, _ := rest.InClusterConfig()
\treturn kubernetes.NewForConfigOrDie(cfg)
}
"""

CACHED_HELPER = """
package web

import (
\t"sync"

\t"k8s.io/client-go/kubernetes"
\t"k8s.io/client-go/rest"
)

var clientOnce = sync.OnceValue(func() *kubernetes.Clientset {
\tcfg, _ := rest.InClusterConfig()
\treturn kubernetes.NewForConfigOrDie(cfg)
})

func GenerateK8sClient() *kubernetes.Clientset {
\treturn clientOnce()
}
"""

HANDLER = """
package web

import (
\t"net/http"

\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pods(w http.ResponseWriter, r *http.Request) {
\t_, _ = GenerateK8sClient().CoreV1().Pods("").List(r.Context(), metav1.ListOptions{})
}
"""


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(path, code):
    path.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")


def k8s008(*args):
    r = cnlint("check", *args, "--select", "K8S008", "--format", "json", "-j", "1", "--exit-zero")
    assert r.exit_code == 0, r.output
    return [(f["path"], f["start"]["line"], f["message"]) for f in json.loads(r.stdout)["findings"]]


def test_go_helper_in_another_file_of_the_package(tmp):
    put(tmp / "client.go", HELPER)
    put(tmp / "handlers.go", HANDLER)
    (path, line, message), = k8s008("--no-cache", "handlers.go")
    assert (path, line) == ("handlers.go", 10)
    assert "`GenerateK8sClient()` builds a clientset on every request of this HTTP handler" in message
    assert "(it calls `kubernetes.NewForConfigOrDie` every time, client.go:10)" in message


@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "result-cache"])
def test_an_edit_of_the_helper_is_seen_by_the_next_run(tmp, cache, monkeypatch):
    monkeypatch.setenv("CNLINT_CACHE_SECRET", str(tmp / "secret"))
    flags = () if cache else ("--no-cache",)
    put(tmp / "client.go", HELPER)
    put(tmp / "handlers.go", HANDLER)
    assert len(k8s008(*flags, "handlers.go")) == 1
    put(tmp / "client.go", CACHED_HELPER)  # the helper now keeps its client
    st = os.stat(tmp / "client.go")
    os.utime(tmp / "client.go", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert k8s008(*flags, "handlers.go") == []


def test_python_helper_declared_below_its_caller(tmp):
    put(tmp / "app.py", """
        from flask import Flask
        from kubernetes import client, config

        app = Flask(__name__)


        @app.route("/nodes")
        def nodes():
            return core().list_node()


        def core():
            config.load_incluster_config()
            return client.CoreV1Api()
    """)
    (path, line, message), = k8s008("--no-cache", "app.py")
    assert line == 9 and "`core()` builds a `CoreV1Api`" in message and "`core` calls `client.CoreV1Api()`" in message
