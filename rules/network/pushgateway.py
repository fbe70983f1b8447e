"""NET003 pushgateway-push-overwrites: the metadata every backend shares.

Checks: ``pushgateway_go.py`` (tree-sitter, Go) and ``pushgateway_py.py``
(libcst, Python).
"""

from __future__ import annotations

from cnlint import Rule


class PushgatewayPushOverwrites(Rule):
    id = "NET003"
    name = "pushgateway-push-overwrites"
    summary = "A long-running process pushes to the Pushgateway without a per-instance grouping key"
    severity = "warning"
    tags = ("observability", "prometheus", "kubernetes")
    precision = "high"
    help = """\
## What it does
Reports pushes to a Prometheus Pushgateway that run over and over — in an
endless loop or on a schedule — without a grouping key that tells the
instances apart:

- **Go**: `push.New(url, job)` of
  `github.com/prometheus/client_golang/prometheus/push` whose `Push`/`Add`
  (`PushContext`/`AddContext`) runs inside `for { ... }`, `for range
  ticker.C`, `for range time.Tick(...)`, a function given to a scheduler
  (`cron.AddFunc`, `wait.Until`/`wait.Forever`, `gocron ...Do`), or a function
  of the same file that such a loop calls — and the pusher has no
  `.Grouping("instance", ...)` nor any `.Grouping(key, value)` whose value is
  not a string literal (a per-node value such as the host or pod name).
- **Python**: `push_to_gateway` and `pushadd_to_gateway` of
  `prometheus_client` inside `while True:` (or `while 1:`, `while not
  stop.is_set():`), in a function decorated as a scheduled or queued task
  (`@app.task`, `@shared_task`, `@periodic_task`, `@scheduler.scheduled_job`,
  `@app.timer_task`, `@repeat_every`), registered with a scheduler
  (`schedule.every(...).do(fn)`, APScheduler's `add_job(fn, ...)`), or called
  from such a loop in the same module — without a `grouping_key` that has an
  `instance` key or a non-literal value.

A loop or a scheduler is how cnlint recognises a long-running service: it
cannot see a Deployment's replica count or a DaemonSet, but a process that
pushes on a timer is a service, and services run as several replicas.

## Why is this bad?
The Pushgateway stores one group of metrics per grouping key (the `job` plus
any grouping labels) and a push *replaces* the group
([Pushgateway README](https://github.com/prometheus/pushgateway#about-the-job-and-instance-labels)):
`push` (HTTP PUT) replaces all its metrics, `pushadd` (POST) those with the
same names. When several replicas, pods or nodes push to the same job without
a label that tells them apart, each push overwrites the previous one: the
gateway only ever shows the replica that pushed last, dashboards and alerts
see one instance flapping between values, and the others' metrics are lost,
without any error. The Prometheus documentation,
[When to use the Pushgateway](https://prometheus.io/docs/practices/pushing/),
recommends the Pushgateway only for service-level batch jobs, and notes that
it becomes a single point of failure and loses the `up` health metric when
used for many instances.

## Example
```go
pusher := push.New(gatewayURL, "queue_worker").Collector(processed)
for range time.Tick(30 * time.Second) {
    if err := pusher.Push(); err != nil {
        log.Print(err)
    }
}
```

```python
while True:
    process_batch()
    push_to_gateway(GATEWAY, job="queue_worker", registry=registry)
    time.sleep(30)
```

## Use instead
```go
pusher := push.New(gatewayURL, "queue_worker").
    Grouping("instance", os.Getenv("POD_NAME")).
    Collector(processed)
```

```python
push_to_gateway(GATEWAY, job="queue_worker", registry=registry,
                grouping_key={"instance": os.environ["POD_NAME"]})
```

## How to fix
Best, for a long-running service: do not push at all — expose `/metrics`
(`promhttp.Handler()`, `prometheus_client.start_http_server`) and let
Prometheus scrape every pod, which also gives you `up` and removes the stale
groups of pods that are gone. If you must push, add a grouping key with a value
unique per instance — the pod name (`POD_NAME` from the downward API), the node
name for a DaemonSet, or `prometheus_client.instance_ip_grouping_key()` — and
delete the group when the instance stops (`push.New(...).Delete()`,
`delete_from_gateway`), since the Pushgateway never forgets a group.

What is not reported:

- Pushes outside a loop or scheduler (a batch job that pushes once at the end
  is the Pushgateway's intended use), and pushes inside a finite loop
  (`for item in items`), which one process runs.
- A job name that is computed (`fmt.Sprintf("worker-%s", host)`,
  `f"worker-{host}"`, `"worker-" + host`): it may already be per instance.
- A `.Grouping(...)`/`grouping_key=` that is not written out (a variable, a
  helper's result, a range over configured labels).
"""
