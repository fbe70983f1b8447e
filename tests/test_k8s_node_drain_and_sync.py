"""K8S001's node-drain signals and K8S004's "where the result matters", through
the CLI: where the findings point (related locations), and what stays quiet."""

import json
import textwrap

import pytest
from conftest import cnlint


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(path, rule):
    r = cnlint("check", path, "--select", rule, "--format", "json", "--no-cache", "-j", "1", "--exit-zero")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert not [n for n in doc["notices"] if n["kind"] == "internal-error"], doc["notices"]
    return doc["findings"]


def put(root, name, code):
    (root / name).write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")


def related_lines(f):
    return [r["start"]["line"] for r in f["related"]]


def test_go_delete_helper_points_at_the_loop_that_calls_it(tmp):
    put(tmp, "kill.go", """
        package nodes

        import (
        	"context"

        	corev1 "k8s.io/api/core/v1"
        	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
        	"k8s.io/client-go/kubernetes"
        )

        func kill(ctx context.Context, cs kubernetes.Interface, p corev1.Pod) error {
        	return cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
        }

        func onNodeLost(ctx context.Context, cs kubernetes.Interface, node string) {
        	pods, _ := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
        	for _, p := range pods.Items {
        		_ = kill(ctx, cs, p)
        	}
        }

        func once(ctx context.Context, cs kubernetes.Interface, p corev1.Pod) error {
        	return kill(ctx, cs, p)
        }
    """)
    (f,) = findings("kill.go", "K8S001")
    assert f["start"]["line"] == 12 and f["severity"] == "warning"
    assert "`kill()`, which `onNodeLost` calls" in f["message"]
    assert related_lines(f) == [18, 16]  # the call in the loop, then the node's selector


def test_python_delete_helper_is_quiet_when_its_callers_clean_up_finished_pods(tmp):
    put(tmp, "gc.py", """
        def remove(api, pod):
            api.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace)


        def cleanup(api, node):
            for pod in api.list_pod_for_all_namespaces(field_selector="spec.nodeName=" + node).items:
                if pod.status.phase == "Succeeded":
                    remove(api, pod)
    """)
    assert findings("gc.py", "K8S001") == []
    put(tmp, "gc.py", (tmp / "gc.py").read_text().replace('if pod.status.phase == "Succeeded":', "if True:"))
    (f,) = findings("gc.py", "K8S001")
    assert f["start"]["line"] == 2 and "which `cleanup` calls" in f["message"]


WAITS = """
    package main

    import (
    	"context"
    	"time"

    	"k8s.io/apimachinery/pkg/labels"
    	"k8s.io/client-go/informers"
    )

    func run(ctx context.Context, f informers.SharedInformerFactory, work func(context.Context)) {
    	f.Start(ctx.Done())
    	f.WaitForCacheSync(ctx.Done())
    	work(ctx)
    }

    func read(ctx context.Context, f informers.SharedInformerFactory) int {
    	lister := f.Core().V1().Pods().Lister()
    	f.Start(ctx.Done())
    	f.WaitForCacheSync(ctx.Done())
    	pods, _ := lister.List(labels.Everything())
    	return len(pods)
    }

    func timed(ctx context.Context, f informers.SharedInformerFactory, work func(context.Context)) {
    	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
    	defer cancel()
    	f.Start(ctx.Done())
    	f.WaitForCacheSync(syncCtx.Done())
    	work(ctx)
    }

    func bounded(ctx context.Context, f informers.SharedInformerFactory, work func(context.Context)) {
    	ctx, cancel := context.WithTimeout(ctx, time.Minute)
    	defer cancel()
    	f.Start(ctx.Done())
    	f.WaitForCacheSync(ctx.Done())
    	work(ctx)
    }
"""


def test_ignored_sync_results_reported_only_where_they_matter(tmp):
    put(tmp, "main.go", WAITS)
    got = {f["start"]["line"]: f for f in findings("main.go", "K8S004")}
    # run: shutdown only; bounded: the timeout stops the work after the wait too
    assert sorted(got) == [20, 29]
    assert "`lister.List` reads a cache right after it" in got[20]["message"]
    assert related_lines(got[20]) == [21]
    assert "deadline (`context.WithTimeout" in got[29]["message"]
    assert related_lines(got[29]) == [26]
