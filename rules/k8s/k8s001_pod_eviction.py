"""K8S001 pod-delete-instead-of-eviction: the metadata both backends share.

The checks live next to this module: ``k8s001_pod_eviction_go.py``
(tree-sitter, client-go and controller-runtime) and
``k8s001_pod_eviction_py.py`` (libcst, the ``kubernetes`` Python client).
"""

from __future__ import annotations

import re
from typing import Optional

from cnlint import Rule
from cnlint.code_kinds import SKIP_TEST_FILES


from .options import SKIP_TEST_FILES_OPTION

#: What a finding's message says after naming the call.
IMPACT = "bypassing PodDisruptionBudgets, so every replica of a workload can go down at once"
ADVICE_GO = ("use the Eviction API (`cs.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{...})`) "
             "and retry while it answers 429 TooManyRequests")
ADVICE_CTRL = ("evict it through the `eviction` subresource (`c.SubResource(\"eviction\").Create(ctx, pod, "
               "&policyv1.Eviction{...})`) and retry while it answers 429 TooManyRequests")
ADVICE_PY = ("use the Eviction API (`create_namespaced_pod_eviction(name, namespace, client.V1Eviction(...))`) "
             "and retry while it answers 429 TooManyRequests")


class PodDeleteInsteadOfEviction(Rule):
    id = "K8S001"
    name = "pod-delete-instead-of-eviction"
    summary = "Pods are deleted to drain or move them, bypassing PodDisruptionBudgets"
    severity = "warning"
    tags = ("kubernetes", "reliability")
    precision = "medium"
    fixable = "suggestion"
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports pods removed with a plain DELETE where the code drains, evicts,
moves, rebalances, restarts or scales down workloads:

- **Go (client-go)**: `Pods(ns).Delete(...)` and `Pods(ns).DeleteCollection(...)`,
  directly or through a pod client variable (`pods := cs.CoreV1().Pods(ns)`).
- **Go (controller-runtime)**: `c.Delete(ctx, pod)` where `pod` is a
  `corev1.Pod` (declared, a parameter, or an element of a `corev1.PodList`'s
  `Items`).
- **Python (`kubernetes`, `kubernetes_asyncio`)**: `delete_namespaced_pod`
  and `delete_collection_namespaced_pod`.

A delete is reported when it happens

- in a function whose name says so (`drain`, `evict`, `move`, `rebalance`,
  `restart`, `scaleDown`/`scale_down`, `cordon`: `drainNode`,
  `evict_pods`, `RebalanceWorkers`...), or
- in a loop (a `for` loop or comprehension, not over a watch stream; in Go
  also a goroutine or closure started for each pod: `go func(p corev1.Pod)
  {...}(pod)`, `g.Go(func() error {...})`), or as a `DeleteCollection`, where
  the pods are those of one node: that is a node drain. The pods are a node's
  when the function
  - selects them with a `spec.nodeName` field selector, written in it or in
    a constant of the file (`const nodeNameField = "spec.nodeName"`), or by
    calling a function of the same file that does (`podsOnNode(ctx, cs, node)`,
    `pods_on(api, node)`);
  - loops over what a function named after a node's pods returns
    (`GetPodsOnNode(...)`, `get_pods_on_node(...)`);
  - keeps them by comparing `pod.Spec.NodeName` / `pod.spec.node_name` with
    a node (`!= node` then `continue`; not `== ""`, which picks unscheduled
    pods, and not a lookup such as `nodes[pod.Spec.NodeName]` or
    `pod.spec.node_name not in nodes`, which is how pods of deleted nodes are
    garbage-collected; and not when the pods were listed with a literal label
    selector, `LabelSelector: "app=node-agent"`: an operator replacing its own
    agent on that node);
  - cordons the node (sets `unschedulable`, calls a `cordon...` helper); or
  - is named after emptying a node (`DeletePodsInNode`, `clear_node`).
- in a helper that deletes one pod (`killPod(ctx, cs, pod)`,
  `self._kill(pod)`) when a function of the same file calls it in one of the
  places above (a function named after a drain, a loop over a node's pods);
  the finding names the caller and points at the call. A method named like a
  client verb (`Delete`) is not followed: its calls cannot be told apart from
  the client's own.

A loop of deletes with none of these signals (a chaos experiment killing pods,
a controller removing the pods it owns, a CLI deleting what the user named) is
not reported: deleting is what that code means to do.

Findings are warnings: a delete in these places is a likely defect but not
always one (a documented `--force` mode, a node known to be gone).

It stays quiet when the loop only removes finished pods (a `Failed` or
`Succeeded` phase check, a `status.phase=Failed` field selector, or
`reason == "Evicted"`): cleaning up pods that no longer run is not a
disruption. It also stays quiet for a single delete of a pod a controller
owns (outside such a function), when the same function also calls the
Eviction API (a deliberate fallback, like `kubectl drain --disable-eviction`),
and in test code (see the option below).

## Why is this bad?
A DELETE ignores PodDisruptionBudgets. A drain or rebalance that deletes pods
can take down every replica of a workload at once: all three etcd or
ZooKeeper members, both ingress controllers, every replica of a quorum
database, because nothing asks how many of them may be down at the same time.
The [Eviction API](https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/)
("API-initiated eviction") is what `kubectl drain` and the cluster autoscaler
use: the API server checks the pod's PodDisruptionBudgets and refuses with
**429 Too Many Requests** when evicting now would violate one, so the caller
waits and retries, and the workload keeps its minimum available replicas
([Safely Drain a Node](https://kubernetes.io/docs/tasks/administer-cluster/safely-drain-node/),
[Disruptions](https://kubernetes.io/docs/concepts/workloads/pods/disruptions/)).
An eviction also goes through admission like a normal graceful deletion
(`terminationGracePeriodSeconds`, preStop hooks). The cluster autoscaler itself
started out deleting the pods of the nodes it removed, and had to switch
([kubernetes/autoscaler@39162f0](https://github.com/kubernetes/autoscaler/commit/39162f086077cfdf6fdc75a830f52d824815b18d),
"Cluster-Autoscaler: evict pods instead of deleting them").

## Example
```go
func drainNode(ctx context.Context, cs kubernetes.Interface, node string) error {
    pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{
        FieldSelector: "spec.nodeName=" + node,
    })
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
```

```python
def drain(v1, node):
    pods = v1.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}")
    for pod in pods.items:
        v1.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace)
```

## Use instead
```go
for _, pod := range pods.Items {
    err := cs.PolicyV1().Evictions(pod.Namespace).Evict(ctx, &policyv1.Eviction{
        ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
    })
    if apierrors.IsTooManyRequests(err) {
        // a PodDisruptionBudget does not allow it now: wait and retry
    }
}
```

With controller-runtime:
`c.SubResource("eviction").Create(ctx, pod, &policyv1.Eviction{ObjectMeta: ...})`.

```python
from kubernetes import client

for pod in pods.items:
    v1.create_namespaced_pod_eviction(
        pod.metadata.name, pod.metadata.namespace,
        client.V1Eviction(metadata=client.V1ObjectMeta(
            name=pod.metadata.name, namespace=pod.metadata.namespace)))
    # on ApiException with status 429: wait and retry
```

## How to fix
Replace the delete with an eviction of the same pod; the suggested fix writes
the call (`PolicyV1().Evictions(ns).Evict`, `Pods(ns).EvictV1` on a pod
client, `SubResource("eviction").Create` for controller-runtime,
`create_namespaced_pod_eviction` in Python) and adds the `policy/v1` import.
It is only a suggestion, because the code around it must also handle the
answers an eviction has and a delete has not: **429** (a PodDisruptionBudget
blocks it: back off and retry, as `kubectl drain` does every 5 seconds until
its timeout) and **500** (several budgets select the pod: a misconfiguration
to report). Carry the delete's options over as the eviction's `DeleteOptions`
(grace period, preconditions). `DeleteCollection` has no eviction
counterpart: list the pods and evict them one by one.

Deleting on purpose (a finished or stuck pod, an explicit `--force` mode,
tests against a fake clientset) is fine: guard the loop with the phase check,
or suppress with a reason:
`// cnlint: ignore[K8S001] -- --disable-eviction was requested`.

Test code is not reported by default: test files, test-helper packages
(`testing/`, `testutil/`, `e2e/`, `fake/`, ...) and test doubles
(`fake_*.go`, `mock_*.go`, ...), as the engine defines them for every rule
(`ctx.is_test_code`; config `test-code`). To check them too:

```toml
[options.K8S001]
skip-test-files = false
```
"""


# ---- what a function's name says it does to pods (Go and Python) ----
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words(identifier: str) -> list[str]:
    """``scaleDownNodes`` -> ["scale", "down", "nodes"]; ``drain_node`` -> ["drain", "node"]."""
    return [w.lower() for w in _WORD.findall(identifier)]


_DRAIN_PREFIXES = ("drain", "evict", "rebalanc", "restart", "cordon", "scaledown")
_MOVE = {"move", "moves", "moved", "moving"}


def drain_like(name: str) -> Optional[str]:
    """The word of a function name that says it drains/evicts/moves pods, or None."""
    ws = words(name)
    for i, w in enumerate(ws):
        if w.startswith(_DRAIN_PREFIXES) or w in _MOVE:
            return w
        if w == "scale" and i + 1 < len(ws) and ws[i + 1] == "down":
            return "scale down"
    return None


_NODE_VERBS = {"delete", "remove", "clear", "clean", "cleanup", "empty", "purge", "kill", "migrate",
               "vacate", "free", "decommission", "retire", "replace", "recycle", "terminate", "wipe"}


def empties_node(name: str) -> bool:
    """A function name about removing the pods of a node: ``DeletePodsInNode``, ``clear_node``."""
    ws = set(words(name))
    return bool(ws & {"node", "nodes"}) and bool(ws & _NODE_VERBS)


def drain_verb(word: str) -> str:
    """How a message says what a function named after ``word`` does to pods."""
    for prefix, verb in (("drain", "drains"), ("evict", "evicts"), ("rebalanc", "rebalances"),
                         ("restart", "restarts"), ("cordon", "cordons and drains"), ("scale", "scales down"),
                         ("move", "moves")):
        if word.startswith(prefix):
            return verb
    return "moves"


def selects_finished(cond: str, finished: "re.Pattern", lang: str = "go") -> bool:
    """Whether a condition only lets finished pods through: every ``||``
    alternative has a clause that tests for a finished state positively
    (``== PodFailed``, ``isTerminal(p)``; not ``!=``, ``!isTerminal``, ``not in``)."""
    or_op, and_op = ("||", "&&") if lang == "go" else (" or ", " and ")

    def clause(c: str) -> bool:
        c = c.strip().lstrip("(").strip()
        if not finished.search(c) or "!=" in c:
            return False
        return not (c.startswith("!") if lang == "go" else re.search(r"\bnot\b", c))

    return all(any(clause(c) for c in part.split(and_op)) for part in cond.split(or_op))
