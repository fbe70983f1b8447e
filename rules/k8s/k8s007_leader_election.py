"""K8S007 leader-election-misconfigured: removed lock types and impossible lease timings (Go)."""

from __future__ import annotations

from typing import Optional

from cnlint import Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code
from cnlint.golang import descendants, enclosing_function, format_duration, keyed_elements, text


from .import_paths import CTRL, CTRL_MANAGER, LEADERELECTION, RESOURCELOCK
from .options import SKIP_TEST_FILES_OPTION

COMPONENT_BASE = ("k8s.io/component-base/config", "k8s.io/component-base/config/v1alpha1")

#: removed lock type constants -> (string value, removed in, replacement advice)
REMOVED_CONSTANTS = {
    "ConfigMapsResourceLock": "configmaps",
    "EndpointsResourceLock": "endpoints",
    "ConfigMapsLeasesResourceLock": "configmapsleases",
    "EndpointsLeasesResourceLock": "endpointsleases",
}
REMOVED_STRINGS = {
    "configmaps": ("v0.24 / Kubernetes 1.24", "kubernetes/kubernetes#106852"),
    "endpoints": ("v0.24 / Kubernetes 1.24", "kubernetes/kubernetes#106852"),
    "configmapsleases": ("v0.28 / Kubernetes 1.28", "kubernetes/kubernetes#117558"),
    "endpointsleases": ("v0.28 / Kubernetes 1.28", "kubernetes/kubernetes#117558"),
}
JITTER_FACTOR = 1.2  # leaderelection.JitterFactor
#: controller-runtime's defaults for unset manager.Options durations
CTRL_DEFAULTS = {"LeaseDuration": 15e9, "RenewDeadline": 10e9, "RetryPeriod": 2e9}
FIELDS = ("LeaseDuration", "RenewDeadline", "RetryPeriod")


class LeaderElectionMisconfigured(Rule):
    id = "K8S007"
    name = "leader-election-misconfigured"
    summary = "Leader election uses a removed lock type or timings client-go rejects"
    severity = "error"
    tags = ("kubernetes", "correctness", "client-go", "controller-runtime", "leader-election")
    precision = "high"
    fixable = "unsafe"
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports Go leader-election settings that client-go refuses at run time:

- lock types that were removed from client-go: the constants
  `resourcelock.ConfigMapsResourceLock`, `EndpointsResourceLock`,
  `ConfigMapsLeasesResourceLock` and `EndpointsLeasesResourceLock` anywhere,
  and the strings `"configmaps"`, `"endpoints"`, `"configmapsleases"`,
  `"endpointsleases"` given to `resourcelock.New` / `NewFromKubeconfig`, to
  controller-runtime's `manager.Options{LeaderElectionResourceLock: ...}` or to
  component-base's `LeaderElectionConfiguration{ResourceLock: ...}`;
- lease timings that break client-go's rules `LeaseDuration > RenewDeadline`
  and `RenewDeadline > JitterFactor (1.2) × RetryPeriod` (and all three
  > 0), in `leaderelection.LeaderElectionConfig{...}`, controller-runtime's
  `manager.Options{...}` / `ctrl.Options{...}` (unset fields count with
  controller-runtime's defaults 15s / 10s / 2s) and component-base's
  `LeaderElectionConfiguration{...}` (`metav1.Duration{Duration: ...}`).

Durations are computed from constant expressions: `15 * time.Second`,
`time.Minute`, `time.Duration(30) * time.Second`, `&d`, `ptr.To(d)`,
`pointer.Duration(d)`, and constants or variables initialised with one and
never changed (a variable bound to a flag, `flag.DurationVar(&d, ...)`, is
not judged). A literal whose variable gets one of the three fields assigned
later (`opts.RenewDeadline = &rd`) is not judged either.

## Why is this bad?
Both mistakes stop leader election, so the controller never becomes leader
and does nothing (or crash-loops), usually found only after a client-go upgrade
or in a config change rolled out to production:

- client-go v0.24 removed the `endpoints` and `configmaps` locks
  ([kubernetes/kubernetes#106852](https://github.com/kubernetes/kubernetes/pull/106852))
  and v0.28 removed the `endpointsleases` and `configmapsleases` migration
  locks ([kubernetes/kubernetes#117558](https://github.com/kubernetes/kubernetes/pull/117558)):
  the constants no longer exist, and `resourcelock.New` returns
  "configmaps lock is removed, migrate to leases" for the strings. Leases
  are also cheaper: a ConfigMap or Endpoints lock is watched by every
  controller that watches ConfigMaps or Endpoints.
- `leaderelection.NewLeaderElector` rejects `LeaseDuration <= RenewDeadline`
  ("leaseDuration must be greater than renewDeadline") and
  `RenewDeadline <= JitterFactor * RetryPeriod` ("renewDeadline must be
  greater than retryPeriod*JitterFactor"), see
  [client-go `tools/leaderelection`](https://pkg.go.dev/k8s.io/client-go/tools/leaderelection#NewLeaderElector).
  The rules exist for safety: a leader must give up before its lease can
  expire for the others (or two leaders act at once), and must get at least
  one jittered retry in before its renewal deadline.

## Example
```go
lock, err := resourcelock.New(resourcelock.ConfigMapsLeasesResourceLock, ns, "my-controller",
    client.CoreV1(), client.CoordinationV1(), lockConfig)

leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
    Lock:          lock,
    LeaseDuration: 10 * time.Second,
    RenewDeadline: 15 * time.Second, // longer than the lease
    RetryPeriod:   5 * time.Second,
})

renew := 20 * time.Second
mgr, err := ctrl.NewManager(cfg, ctrl.Options{
    LeaderElection: true,
    RenewDeadline:  &renew, // default LeaseDuration is 15s
})
```

## Use instead
```go
lock, err := resourcelock.New(resourcelock.LeasesResourceLock, ns, "my-controller",
    client.CoreV1(), client.CoordinationV1(), lockConfig)

leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
    Lock:          lock,
    LeaseDuration: 15 * time.Second,
    RenewDeadline: 10 * time.Second,
    RetryPeriod:   2 * time.Second,
})
```

## How to fix
Use the `leases` lock (`resourcelock.LeasesResourceLock`). From
`configmapsleases`/`endpointsleases` the switch is safe in one release; from
plain `configmaps`/`endpoints`, members of a rolling update would not see
each other's lock, so release a version on a `...leases` lock first (client-go
v0.17-v0.27) or stop all replicas before rolling out. The offered fix makes
the change and is unsafe for that reason.

Pick timings with `LeaseDuration > RenewDeadline > 1.2 × RetryPeriod`; the
usual values are 15s / 10s / 2s (controller-runtime's defaults), or 137s /
107s / 26s for controllers that must survive API server restarts.
"""


class LeaderElectionMisconfiguredGo(LeaderElectionMisconfigured, TreeSitterRule):
    languages = ("go",)
    requires = ("ResourceLock", "LeaseDuration", "RenewDeadline", "RetryPeriod", "resourcelock")
    query = """
    (composite_literal
      type: (qualified_type name: (type_identifier) @k8s007.tname)
      body: (literal_value) @k8s007.body
      (#any-of? @k8s007.tname "LeaderElectionConfig" "Options" "LeaderElectionConfiguration")) @k8s007.lit

    (selector_expression
      operand: (identifier)
      field: (field_identifier) @k8s007.const
      (#any-of? @k8s007.const "ConfigMapsResourceLock" "EndpointsResourceLock"
                              "ConfigMapsLeasesResourceLock" "EndpointsLeasesResourceLock")) @k8s007.sel

    (call_expression
      function: (selector_expression field: (field_identifier) @k8s007.fn)
      arguments: (argument_list . (interpreted_string_literal) @k8s007.str)
      (#any-of? @k8s007.fn "New" "NewFromKubeconfig")) @k8s007.call
    """

    def on_match(self, captures):
        if skips_test_code(self):
            return
        if "k8s007.lit" in captures:
            self._literal(captures["k8s007.lit"][0], captures["k8s007.body"][0])
        elif "k8s007.sel" in captures:
            sel = captures["k8s007.sel"][0]
            member = self.ctx.go.qualified(sel)
            if member is not None and member[0] == RESOURCELOCK and member[1] in REMOVED_CONSTANTS:
                self._removed_lock(sel, REMOVED_CONSTANTS[member[1]], text(sel))
        elif "k8s007.call" in captures:
            call = captures["k8s007.call"][0]
            if self.ctx.go.package_function(call) in ((RESOURCELOCK, "New"), (RESOURCELOCK, "NewFromKubeconfig")):
                self._string_lock(captures["k8s007.str"][0])

    # ---- lock types ----
    def _string_lock(self, node) -> None:
        value = text(node).strip('"')
        if value in REMOVED_STRINGS:
            self._removed_lock(node, value, text(node))

    def _removed_lock(self, node, value: str, shown: str) -> None:
        version, pr = REMOVED_STRINGS[value]
        if value.endswith("leases"):
            how = "switching to `leases` is safe in one release (both locks hold the same Lease)"
        else:
            how = ("members of a rolling update on different lock types would not see each other: move to "
                   f"`{value}leases` first (client-go v0.17-v0.27) or stop all replicas before switching to `leases`")
        if node.type == "selector_expression":
            replacement = f"{text(node.child_by_field_name('operand'))}.LeasesResourceLock"
        else:
            replacement = '"leases"'
        fix = self.fix(f"Use the `leases` lock (`{replacement}`)", self.edit(node, replacement),
                       applicability="unsafe")
        self.report(node, f"`{shown}` selects the `{value}` leader-election lock, removed in client-go "
                          f"{version} ({pr}): the constant no longer exists and `resourcelock.New` returns "
                          f"an error, so the controller never becomes leader; use the `leases` lock "
                          f"(`resourcelock.LeasesResourceLock`) — {how}", fix=fix)

    # ---- struct literals ----
    def _literal(self, lit, body) -> None:
        member = self.ctx.go.qualified(lit.child_by_field_name("type"))
        if member is None:
            return
        path, name = member
        if (path, name) == (LEADERELECTION, "LeaderElectionConfig"):
            kind, defaults = "leaderelection.LeaderElectionConfig", {}
        elif name == "Options" and path in (CTRL, CTRL_MANAGER):
            kind, defaults = "controller-runtime manager.Options", CTRL_DEFAULTS
        elif name == "LeaderElectionConfiguration" and path in COMPONENT_BASE:
            kind, defaults = "component-base LeaderElectionConfiguration", {}
        else:
            return
        kv = keyed_elements(body)
        lock_key = "LeaderElectionResourceLock" if defaults else "ResourceLock"
        if lock_key in kv:
            value = kv[lock_key][1]
            if value is not None and value.type == "interpreted_string_literal":
                self._string_lock(value)
        if not any(f in kv for f in FIELDS):
            return
        if defaults:
            le = kv.get("LeaderElection")
            if le is not None and le[1] is not None and le[1].type == "false":
                return
        if self._fields_assigned_later(lit):
            return
        values: dict[str, Optional[float]] = {}
        shown: dict[str, str] = {}
        for f in FIELDS:
            if f in kv:
                d = self.ctx.go.duration(kv[f][1], allowed=lit)
                values[f] = d.ns if d is not None else None
                shown[f] = format_duration(values[f]) if values[f] is not None else ""
            elif f in defaults:
                values[f] = defaults[f]
                shown[f] = f"{format_duration(defaults[f])}, the default"
            else:
                values[f] = None  # not set: the zero value, or set elsewhere
        elem = {f: kv[f][0] for f in FIELDS if f in kv}
        for f in FIELDS:
            v = values[f]
            if f in elem and v is not None and v <= 0:
                self.report(elem[f], f"{f} is {format_duration(v)} in this {kind}: client-go's leader "
                                     f"election requires it to be greater than zero and refuses to start")
                return
        ld, rd, rp = values["LeaseDuration"], values["RenewDeadline"], values["RetryPeriod"]
        if ld is not None and rd is not None and ld <= rd and ("LeaseDuration" in elem or "RenewDeadline" in elem):
            at = elem.get("LeaseDuration") or elem["RenewDeadline"]
            other = elem.get("RenewDeadline") if at is elem.get("LeaseDuration") else None
            self.report(at, f"LeaseDuration ({shown['LeaseDuration']}) must be greater than RenewDeadline "
                            f"({shown['RenewDeadline']}) in this {kind}: client-go refuses to start the elector "
                            "(\"leaseDuration must be greater than renewDeadline\"), and a leader that may renew "
                            "after its lease expired can overlap with the next one",
                        related=[(other, "RenewDeadline is set here")] if other is not None else [])
        if rd is not None and rp is not None and rd <= JITTER_FACTOR * rp and \
                ("RenewDeadline" in elem or "RetryPeriod" in elem):
            at = elem.get("RenewDeadline") or elem["RetryPeriod"]
            other = elem.get("RetryPeriod") if at is elem.get("RenewDeadline") else None
            self.report(at, f"RenewDeadline ({shown['RenewDeadline']}) must be greater than JitterFactor (1.2) × "
                            f"RetryPeriod ({shown['RetryPeriod']}) = {format_duration(JITTER_FACTOR * rp)} in this "
                            f"{kind}: client-go refuses to start the elector (\"renewDeadline must be greater "
                            "than retryPeriod*JitterFactor\"), the leader would get no retry before its deadline",
                        related=[(other, "RetryPeriod is set here")] if other is not None else [])

    def _fields_assigned_later(self, lit) -> bool:
        """``opts := ctrl.Options{...}`` followed by ``opts.RenewDeadline = ...``."""
        stmt = lit.parent
        while stmt is not None and stmt.type in ("unary_expression", "expression_list", "parenthesized_expression"):
            stmt = stmt.parent
        if stmt is None or stmt.type not in ("short_var_declaration", "assignment_statement", "var_spec"):
            return False
        left = stmt.child_by_field_name("left") if stmt.type != "var_spec" else None
        names = [text(n) for n in (left.named_children if left is not None else stmt.children_by_field_name("name"))]
        fn = enclosing_function(lit)
        scope = fn if fn is not None else self.ctx.tree.root_node
        for node in descendants(scope):
            if node.type != "assignment_statement" or node.start_byte < lit.end_byte:
                continue
            lhs = node.child_by_field_name("left")
            for target in lhs.named_children if lhs is not None else []:
                if target.type == "selector_expression" and \
                        text(target.child_by_field_name("field")) in FIELDS and \
                        text(target.child_by_field_name("operand")) in names:
                    return True
        return False
