"""The Kubernetes pack (K8S001-K8S010) beyond its fixtures: fixes applied
through the CLI on temporary copies, options, test code, help pages."""

import json
import os
import shutil
import textwrap

import pytest
from conftest import cnlint

from cnlint.loader import load_rules
from cnlint.testing import builtin_fixtures_dir

IDS = tuple(f"K8S{n:03d}" for n in range(1, 11))
REGISTRY = load_rules()


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    """An empty project directory as the cwd (no config: built-in rules only)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(root, name, code):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")
    return path


def findings(*args):
    r = cnlint("check", *args, "--format", "json", "--no-cache", "-j", "1", "--exit-zero")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert not [n for n in doc["notices"] if n["kind"] == "internal-error"], doc["notices"]
    return doc["findings"]


def test_engine_accepts_k8s_ids():
    """K8S ids carry a digit in their prefix: the engine must load them and the
    fixture runner must read `want: K8S001` (rule.ID_RE, Rule.pack, testing._WANT)."""
    from cnlint.testing import parse_expectations

    assert set(IDS) <= set(REGISTRY.rules), [n.message for n in REGISTRY.notices]
    assert {REGISTRY.rules[i].meta.pack() for i in IDS} == {"kubernetes"}
    assert [e.rule_id for e in parse_expectations('x // want: K8S003 "no unit"')[1]] == ["K8S003"]


# ---- K8S003: the unsafe `* time.Second` fix ----
RESYNC = """
    package main

    import (
    	"k8s.io/client-go/informers"
    	"k8s.io/client-go/kubernetes"
    )

    func start(cs kubernetes.Interface) informers.SharedInformerFactory {
    	return informers.NewSharedInformerFactory(cs, 60)
    }
"""


def test_resync_fix_is_unsafe_and_adds_the_time_import(tmp):
    put(tmp, "main.go", RESYNC)
    before = (tmp / "main.go").read_text()
    # --fix alone leaves an unsafe fix alone
    r = cnlint("check", "main.go", "--select", "K8S003", "--no-cache", "--fix")
    assert r.exit_code == 1
    assert (tmp / "main.go").read_text() == before
    # --diff --unsafe-fixes shows it without writing
    r = cnlint("check", "main.go", "--select", "K8S003", "--no-cache", "--diff", "--unsafe-fixes")
    assert '+\t"time"' in r.stdout
    assert "+\treturn informers.NewSharedInformerFactory(cs, 60 * time.Second)" in r.stdout
    assert (tmp / "main.go").read_text() == before
    # --fix --unsafe-fixes writes it; the result is clean (60s is above client-go's 1s floor)
    cnlint("check", "main.go", "--select", "K8S003", "--no-cache", "--fix", "--unsafe-fixes")
    fixed = (tmp / "main.go").read_text()
    assert fixed == before.replace("import (\n", 'import (\n\t"time"\n\n').replace(
        "(cs, 60)", "(cs, 60 * time.Second)")
    assert findings("main.go", "--select", "K8S003,CN001") == []
    (tmp / "main.go").write_text(before)
    assert [f["severity"] for f in findings("main.go", "--select", "K8S003")] == ["error"]  # a bug for certain


def test_resync_fix_keeps_an_existing_time_alias(tmp):
    put(tmp, "alias.go", """
        package main

        import (
        	stdtime "time"

        	"k8s.io/client-go/tools/cache"
        )

        var period = stdtime.Minute

        func inf(lw cache.ListerWatcher, h cache.ResourceEventHandler) {
        	cache.NewInformer(lw, nil, stdtime.Duration(15), h)
        }
    """)
    r = cnlint("check", "alias.go", "--select", "K8S003", "--no-cache", "--diff", "--unsafe-fixes")
    assert "+\tcache.NewInformer(lw, nil, 15 * stdtime.Second, h)" in r.stdout
    assert '+\t"time"' not in r.stdout


def test_resync_below_minimum_has_no_fix_and_min_period_option(tmp):
    put(tmp, "short.go", """
        package main

        import (
        	"time"

        	"k8s.io/client-go/informers"
        	"k8s.io/client-go/kubernetes"
        )

        func start(cs kubernetes.Interface) {
        	_ = informers.NewSharedInformerFactory(cs, 30*time.Second)
        	_ = informers.NewSharedInformerFactory(cs, 2*time.Minute)
        	_ = informers.NewSharedInformerFactory(cs, 200*time.Millisecond)
        }
    """)
    # by default only the period below client-go's 1s floor: 30s (the sample-controller's) is a choice
    got = findings("short.go", "--select", "K8S003")
    assert [(f["start"]["line"], f["fix"], f["severity"]) for f in got] == [(13, None, "warning")]
    assert "200ms" in got[0]["message"] and "floor of 1s" in got[0]["message"]
    # a longer minimum is a team's policy: reported as notes
    got = findings("short.go", "--select", "K8S003", "--rule-option", "K8S003.min-period=1m")
    assert [(f["start"]["line"], f["severity"]) for f in got] == [(11, "note"), (13, "warning")]
    assert "30s" in got[0]["message"] and "1m0s" in got[0]["message"]
    got = findings("short.go", "--select", "K8S003", "--rule-option", 'K8S003.min-period="1h30m"')
    assert [f["start"]["line"] for f in got] == [11, 12, 13]


# ---- K8S002: the unsafe "pass the options" fix ----
def test_listwatch_fix_passes_the_options(tmp):
    put(tmp, "lw.go", """
        package lw

        import (
        	"context"

        	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
        	"k8s.io/apimachinery/pkg/runtime"
        	"k8s.io/apimachinery/pkg/watch"
        	"k8s.io/client-go/kubernetes"
        	"k8s.io/client-go/tools/cache"
        )

        func lw(cs kubernetes.Interface) *cache.ListWatch {
        	return &cache.ListWatch{
        		ListFunc: func(options metav1.ListOptions) (runtime.Object, error) {
        			return cs.CoreV1().Pods("").List(context.TODO(), metav1.ListOptions{LabelSelector: "app=web"})
        		},
        		WatchFunc: func(_ metav1.ListOptions) (watch.Interface, error) {
        			return cs.CoreV1().Pods("").Watch(context.TODO(), metav1.ListOptions{LabelSelector: "app=web"})
        		},
        	}
        }
    """)
    assert len(findings("lw.go", "--select", "K8S002")) == 2
    cnlint("check", "lw.go", "--select", "K8S002", "--no-cache", "--fix", "--unsafe-fixes")
    fixed = (tmp / "lw.go").read_text()
    assert 'ListFunc: func(options metav1.ListOptions) (runtime.Object, error) {\n' \
           '\t\t\toptions.LabelSelector = "app=web"\n' \
           '\t\t\treturn cs.CoreV1().Pods("").List(context.TODO(), options)' in fixed
    assert 'WatchFunc: func(options metav1.ListOptions) (watch.Interface, error) {\n' \
           '\t\t\toptions.LabelSelector = "app=web"\n' \
           '\t\t\treturn cs.CoreV1().Pods("").Watch(context.TODO(), options)' in fixed
    assert findings("lw.go", "--select", "K8S002,CN001") == []


# ---- K8S001: suggestions only ----
DRAIN_GO = """
    package drain

    import (
    	"context"

    	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
    	"k8s.io/client-go/kubernetes"
    )

    func drainNode(ctx context.Context, cs kubernetes.Interface, node string) error {
    	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
    	if err != nil {
    		return err
    	}
    	for _, pod := range pods.Items {
    		if err := cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
    			return err
    		}
    	}
    	return nil
    }
"""


def test_eviction_fix_is_a_suggestion_never_applied(tmp):
    put(tmp, "drain.go", DRAIN_GO)
    before = (tmp / "drain.go").read_text()
    r = cnlint("check", "drain.go", "--select", "K8S001", "--no-cache", "--fix", "--unsafe-fixes")
    assert r.exit_code == 1 and (tmp / "drain.go").read_text() == before
    (f,) = findings("drain.go", "--select", "K8S001")
    assert f["severity"] == "warning" and "429" in f["message"]  # a deliberate delete exists: not certain
    assert f["fix"]["applicability"] == "suggestion"
    edits = sorted(e["content"] for e in f["fix"]["edits"])
    assert edits == [
        '\tpolicyv1 "k8s.io/api/policy/v1"\n',
        "cs.PolicyV1().Evictions(pod.Namespace).Evict(ctx, &policyv1.Eviction{ObjectMeta: "
        "metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace}})",
    ]
    # applied by hand, the suggestion gives code the rule accepts
    text = before
    for e in sorted(f["fix"]["edits"], key=lambda e: (e["start"]["line"], e["start"]["column"]), reverse=True):
        lines = text.split("\n")
        s, t = e["start"], e["end"]
        line = lines[s["line"] - 1]
        if s["line"] == t["line"]:
            lines[s["line"] - 1] = line[: s["column"] - 1] + e["content"] + line[t["column"] - 1:]
        text = "\n".join(lines)
    (tmp / "drain.go").write_text(text)
    assert findings("drain.go", "--select", "K8S001,CN001") == []


def test_eviction_suggestion_for_python(tmp):
    put(tmp, "drain.py", """
        from kubernetes import client as k8s


        def drain_node(v1, node):
            for pod in v1.list_pod_for_all_namespaces(field_selector="spec.nodeName=" + node).items:
                v1.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace, grace_period_seconds=5)
    """)
    (f,) = findings("drain.py", "--select", "K8S001")
    assert f["fix"]["applicability"] == "suggestion"
    assert [e["content"] for e in f["fix"]["edits"]] == [
        "v1.create_namespaced_pod_eviction(pod.metadata.name, pod.metadata.namespace, "
        "k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name=pod.metadata.name, namespace=pod.metadata.namespace), "
        "delete_options=k8s.V1DeleteOptions(grace_period_seconds=5)))"]


def test_test_code_is_skipped_unless_asked(tmp):
    put(tmp, "drain_test.go", DRAIN_GO)
    put(tmp, "testing/helpers.go", DRAIN_GO)
    assert findings(".", "--select", "K8S001") == []
    got = findings(".", "--select", "K8S001", "--rule-option", "K8S001.skip-test-files=false")
    assert sorted(f["path"] for f in got) == ["drain_test.go", "testing/helpers.go"]


# ---- help pages ----
@pytest.mark.parametrize("rule_id", IDS)
def test_help_pages(rule_id):
    info = REGISTRY.rules[rule_id]
    page = info.meta.help
    heads = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## How to fix"]
    positions = [page.find(h) for h in heads]
    assert -1 not in positions and positions == sorted(positions)
    assert "](https://" in page  # cites the upstream documentation or issue it relies on
    assert "kubernetes" in info.meta.tags and info.meta.requires
    r = cnlint("explain", rule_id)
    assert r.exit_code == 0 and info.meta.name in r.stdout


def test_every_rule_has_positive_and_trap_fixtures():
    base = builtin_fixtures_dir()
    for rule_id in IDS:
        files = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(base, rule_id)) for f in fs
                 if f.endswith((".go", ".py"))]
        texts = [open(p, encoding="utf-8").read() for p in files]
        assert any("want: " + rule_id in t for t in texts)
        assert any("want:" not in t for t in texts)


def test_fixture_copies_are_stable_under_unsafe_fixes(tmp):
    """Every unsafe fix in the fixtures applies and leaves parseable code."""
    base = builtin_fixtures_dir()
    for rule_id in ("K8S002", "K8S003"):
        shutil.copytree(os.path.join(base, rule_id), tmp / rule_id)
    r = cnlint("check", ".", "--select", "K8S002,K8S003", "--no-cache", "--fix", "--unsafe-fixes", "-j", "1")
    assert "syntax error" not in r.output
    assert findings(".", "--select", "CN001") == []


def test_docs_pages_match_explain():
    """docs/rules/K8S00[1-5].md are `cnlint explain --write-docs` output."""
    from cnlint.cli import rule_page

    docs = os.path.join(os.path.dirname(__file__), "..", "docs", "rules")
    for rule_id in IDS:
        with open(os.path.join(docs, f"{rule_id}.md"), encoding="utf-8") as f:
            assert f.read() == rule_page(REGISTRY.rules[rule_id]), f"regenerate docs/rules/{rule_id}.md"


# ---- K8S010 and K8S007 fixes end to end ----
WATCHERS = textwrap.dedent('''\
    from kubernetes import client, dynamic, watch

    v1 = client.CoreV1Api()


    def pods(namespace):
        w = watch.Watch()
        for event in w.stream(v1.list_namespaced_pod, namespace=namespace):
            print(event["type"])


    class Sync:
        def cnlint(self):
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



@pytest.fixture
def watchers(tmp_path, monkeypatch):
    """A project with watchers.py (four unbounded watches) as the cwd."""
    (tmp_path / "watchers.py").write_text(WATCHERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path




def test_k8s010_reports_each_unbounded_watch(watchers):
    rows = findings("watchers.py", "--select", "K8S010")
    assert sorted(f["rule_id"] for f in rows) == ["K8S010"] * 4
    messages = " ".join(f["message"] for f in rows)
    assert "log stream" in messages and "dynamic-client watch" in messages


def test_k8s010_fix_needs_unsafe_fixes(watchers):
    before = (watchers / "watchers.py").read_text()
    r = cnlint("check", "watchers.py", "--select", "K8S010", "--fix", "--no-cache")
    assert (watchers / "watchers.py").read_text() == before  # unsafe: --fix alone changes nothing
    assert r.exit_code == 1


def test_k8s010_diff_shows_the_unsafe_fix(watchers):
    before = (watchers / "watchers.py").read_text()
    r = cnlint("check", "watchers.py", "--select", "K8S010", "--diff", "--unsafe-fixes", "--no-cache")
    assert (watchers / "watchers.py").read_text() == before  # --diff writes nothing
    out = r.stdout
    assert "+    for event in w.stream(v1.list_namespaced_pod, namespace=namespace, timeout_seconds=300):" in out
    # one argument per line with a trailing comma keeps its layout and indentation
    assert '+            timeout_seconds=300,\n' in out
    assert "+    for event in api.watch(namespace=\"default\", timeout=300):" in out
    assert "read_namespaced_pod_log, name, namespace, timeout" not in out  # log streams get no fix


def test_k8s010_fix_unsafe_fixes_end_to_end(watchers):
    r = cnlint("check", "watchers.py", "--select", "K8S010", "--fix", "--unsafe-fixes", "--no-cache")
    fixed = (watchers / "watchers.py").read_text()
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
    rows = findings("watchers.py", "--select", "K8S010")
    assert [f["message"].startswith("this log stream") for f in rows] == [True]
    assert r.exit_code == 1
    cnlint("check", "watchers.py", "--select", "K8S010", "--fix", "--unsafe-fixes", "--no-cache")
    assert (watchers / "watchers.py").read_text() == fixed


def test_k8s010_fix_uses_the_options(watchers):
    (watchers / "cnlint.toml").write_text("[options.K8S010]\ntimeout-seconds = 600\nrequest-timeout = 660\n")
    cnlint("check", "watchers.py", "--select", "K8S010", "--fix", "--unsafe-fixes", "--no-cache")
    fixed = (watchers / "watchers.py").read_text()
    assert "namespace=namespace, timeout_seconds=600, _request_timeout=660)" in fixed
    assert "timeout_seconds=600,\n            _request_timeout=660,\n        ):" in fixed
    assert 'api.watch(namespace="default", timeout=600)' in fixed


def test_k8s010_rule_option_on_the_command_line(watchers):
    r = cnlint("check", "watchers.py", "--select", "K8S010", "--diff", "--unsafe-fixes", "--no-cache",
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
    cnlint("check", "main.go", "--select", "K8S007", "--fix", "--no-cache")
    assert "ConfigMapsLeasesResourceLock" in (tmp_path / "main.go").read_text()
    cnlint("check", "main.go", "--select", "K8S007", "--fix", "--unsafe-fixes", "--no-cache")
    assert "resourcelock.New(resourcelock.LeasesResourceLock," in (tmp_path / "main.go").read_text()


def test_fixture_folders_pass_through_test_rules(tmp_path):
    src = builtin_fixtures_dir()
    for rid in ("K8S006", "K8S007", "K8S008", "K8S009", "K8S010"):
        shutil.copytree(f"{src}/{rid}", tmp_path / rid)
    r = cnlint("test-rules", str(tmp_path))
    assert r.exit_code == 0, r.stdout
    assert "5 passed, 0 failed" in r.stdout


def test_explain_pages():
    for rid, words in (("K8S006", "DeepCopy"), ("K8S007", "JitterFactor"), ("K8S008", "ApiClient"),
                       ("K8S009", "PollUntilContextTimeout"), ("K8S010", "_request_timeout")):
        r = cnlint("explain", rid)
        assert r.exit_code == 0 and words in r.stdout
        assert r.stdout.index("## What it does") < r.stdout.index("## How to fix")
