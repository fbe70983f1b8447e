"""K8S003 resync-period-unitless: informer resync periods without a unit, or too short."""

from __future__ import annotations

import re
from typing import Optional

from cnlint import Option, Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, TEST_CODE_HELP, skips_test_code
from cnlint.golang import (
    call_args, format_duration, keyed, parse_duration, selector_parts, strip_pointer, text, unwrap,
)


from .import_paths import CACHE, CTRL, TIME
from .options import SKIP_TEST_FILES_OPTION

MIN_PERIOD = "min-period"
#: client-go's ``minimumResyncPeriod``: a handler's resync is never shorter than this
CLIENT_GO_FLOOR_NS = 1_000_000_000

#: informer factories (client-go, generated clientsets, dynamic, metadata): resync is argument 1
FACTORIES = {
    "NewSharedInformerFactory", "NewSharedInformerFactoryWithOptions", "NewFilteredSharedInformerFactory",
    "NewDynamicSharedInformerFactory", "NewFilteredDynamicSharedInformerFactory",
}
#: k8s.io/client-go/tools/cache constructors: resync is argument 2
CACHE_FUNCS = {"NewInformer": 2, "NewIndexerInformer": 2, "NewSharedInformer": 2, "NewSharedIndexInformer": 2,
               "NewTransformingInformer": 2, "NewTransformingIndexerInformer": 2}
#: dynamic/metadata single informers: resync is argument 3
SINGLE_INFORMERS = {"NewFilteredDynamicInformer": 3, "NewFilteredMetadataInformer": 3}
#: generated per-type informers: NewPodInformer(client, ns, resync, indexers), NewNodeInformer(client, resync, ...)
GENERATED_INFORMER = re.compile(r"^New(Filtered)?[A-Z]\w*Informer$")
#: fields holding a resync period: client-go's options structs, controller-runtime's SyncPeriod
RESYNC_FIELDS = {"ResyncPeriod": CACHE, "SyncPeriod": CTRL}
#: helpers that make a *time.Duration: ptr.To(d), pointer.Duration(d)
POINTER_HELPERS = {"To", "Duration", "DurationPtr", "Ptr"}


class ResyncPeriodUnitless(Rule):
    id = "K8S003"
    name = "resync-period-unitless"
    summary = "An informer resync period has no time unit (nanoseconds) or is below client-go's 1 s floor"
    severity = "error"
    tags = ("kubernetes", "reliability")
    precision = "high"
    fixable = "unsafe"
    options = {
        MIN_PERIOD: Option("1s", "shortest resync period with a unit that is not reported, as a Go duration "
                                 "(\"1s\", \"1m\", \"1h30m\"): the default is client-go's floor; a longer one is a "
                                 "team policy (reported as a note); 0 disables resync and is never reported"),
        SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION,
    }
    help = """\
## What it does
Reports the resync period given to a client-go informer, an informer factory
or a controller-runtime cache when it is a bare number below one second
(`60`, which Go reads as **60 nanoseconds**: an error), or a duration with a
unit below client-go's floor of one second (`500 * time.Millisecond`: a
warning):

- `informers.NewSharedInformerFactory(cs, 30)`,
  `NewSharedInformerFactoryWithOptions`, `NewFilteredSharedInformerFactory`
  (also the generated factories of CRD clientsets, `dynamicinformer` and
  `metadatainformer`), generated informers such as
  `coreinformers.NewPodInformer(cs, ns, 30, indexers)`;
- `cache.NewInformer`, `NewIndexerInformer`, `NewSharedInformer`,
  `NewSharedIndexInformer`, `informer.AddEventHandlerWithResyncPeriod(h, 30)`,
  `ResyncPeriod:` in `cache.SharedIndexInformerOptions`/`HandlerOptions`;
- controller-runtime's `SyncPeriod: &d` (`cache.Options`, `manager.Options`)
  where `d` is a constant (`d := 10 * time.Second`, `ptr.To(...)`).

Durations are evaluated as Go does: `30 * time.Second`, `time.Minute`,
`10*time.Minute`, `time.Duration(30) * time.Second`, constants declared in the
file. `0` (resync disabled) and values that come from flags or other files are
not reported.

A period of one second or more with a unit is not reported by default: the
sample-controller's `time.Second*30`, the 5 s of tutorials, the 1 h or 10 h of
production controllers are all choices of cost, not defects, and they are all
found in real code (the corpus behind cnlint's ledger has 0, 5 s, 30 s, 1 h
and 10 h). A team that wants a policy sets `min-period` (for example `"1m"`);
periods under it are then reported as notes.

## Why is this bad?
A resync period is a `time.Duration`, which counts nanoseconds, and an
untyped constant converts silently: `NewSharedInformerFactory(cs, 60)` asks
for a resync every 60 ns. client-go raises a handler's period to its 1 second
floor (`minimumResyncPeriod` in
[shared_informer.go](https://github.com/kubernetes/client-go/blob/master/tools/cache/shared_informer.go)),
but the reflector's resync timer still fires every 60 ns: the informer
busy-loops on a CPU core, and every event handler gets an update for **every
object in the cache every second**, which floods work queues and, in a
controller that writes status on each sync, the API server. With
`cache.NewInformer` there is no floor at all. Antrea shipped with
`NewSharedInformerFactory(client, 60)` until a commit found that it "was
interpreted as 60 nanoseconds. This was driving the CPU crazy"
([antrea-io/antrea@cedd9c8](https://github.com/antrea-io/antrea/commit/cedd9c85959d0247a60112fe31605830cce3bcde)).

A period with a unit below one second does not do what it says either:
client-go raises every handler's resync to its 1 s floor (and logs "resyncPeriod
... is too small"), while the informer still wakes up at the shorter period to
check for due resyncs.

Above that floor, a resync is a full re-delivery of the cache, not a relist
(it fetches nothing from the API server): controllers are level-based and the
watch delivers every change, so periods of seconds add load but break nothing.
kube-controller-manager resyncs every 12 to 24 hours (`--min-resync-period`),
controller-runtime defaults to 10 hours, and the
[sample-controller](https://github.com/kubernetes/sample-controller/blob/master/main.go)
uses 30 seconds. Whether that load matters depends on the cache's size, which
is why it is an option and not a default. See [`NewSharedInformerFactory`](https://pkg.go.dev/k8s.io/client-go/informers#NewSharedInformerFactory),
[`NewSharedIndexInformer`](https://pkg.go.dev/k8s.io/client-go/tools/cache#NewSharedIndexInformer)
and [`cache.Options.SyncPeriod`](https://pkg.go.dev/sigs.k8s.io/controller-runtime/pkg/cache#Options).

## Example
```go
factory := informers.NewSharedInformerFactory(cs, 30)
informer := cache.NewSharedIndexInformer(lw, &v1.Pod{}, 5*time.Second, cache.Indexers{})
```

## Use instead
```go
factory := informers.NewSharedInformerFactory(cs, 30*time.Second)  // if a resync is needed at all
factory := informers.NewSharedInformerFactory(cs, 0)                // or: no periodic resync
informer := cache.NewSharedIndexInformer(lw, &v1.Pod{}, 10*time.Minute, cache.Indexers{})
```

## How to fix
A missing unit is reported as an error (it is a bug for certain: nobody means
a resync every few nanoseconds); a period with a unit below one second as a
warning; a period below a `min-period` you set (a cost, not a bug) as a note.

Write the unit: the fix turns a bare `60` into `60 * time.Second` (and adds
the `time` import). It is an **unsafe** fix: it is the most common intent, but
only a guess (the author may have meant minutes, or no resync at all: `0`),
and it changes what the program does at run time, from a busy loop to a real
period, so review it. Short periods get no fix: raise them, or use 0 if
nothing relies on the resync. To enforce a longer minimum as a policy:

```toml
[options.K8S003]
min-period = "1m"
```
""" + TEST_CODE_HELP


class ResyncPeriodUnitlessGo(ResyncPeriodUnitless, TreeSitterRule):
    languages = ("go",)
    requires = ("Informer", "SyncPeriod", "ResyncPeriod")

    def __init__(self, options=None):
        super().__init__(options)
        self._min_ns: Optional[int] = None

    @property
    def _min(self) -> int:
        """The ``min-period`` option in nanoseconds (a bad value crashes the rule with its reason)."""
        if self._min_ns is None:
            self._min_ns = parse_duration(str(self.options[MIN_PERIOD]))
        return self._min_ns

    # ---- calls ----
    def visit_call_expression(self, call) -> None:
        operand, name = selector_parts(call)
        if not name:
            return
        args = call_args(call)
        index = None
        if name == "AddEventHandlerWithResyncPeriod":
            index = 1
        elif operand is not None and operand.type == "identifier" and text(operand) in self.ctx.go.imports.names:
            path = self.ctx.go.imports.names[text(operand)]
            if name in FACTORIES:
                index = 1
            elif path == CACHE:
                index = CACHE_FUNCS.get(name)
            elif name in SINGLE_INFORMERS:
                index = SINGLE_INFORMERS[name]
            elif "/informers/" in path + "/" and GENERATED_INFORMER.match(name):
                index = self._generated_index(args)
        if index is None or index >= len(args) or skips_test_code(self):
            return
        what = f"`{text(operand)}.{name}`"
        self._check(args[index], what, fixable=True)

    def _generated_index(self, args) -> Optional[int]:
        """NewPodInformer(client, namespace, resync, ...) vs NewNodeInformer(client, resync, ...)."""
        if len(args) > 1:
            d = self.ctx.go.duration(args[1])
            if d is not None or unwrap(args[1], deref=True).type == "int_literal":
                return 1
        return 2 if len(args) > 2 else None

    # ---- option structs ----
    def visit_keyed_element(self, elem) -> None:
        body = elem.parent
        lit = body.parent if body is not None else None
        if lit is None or lit.type != "composite_literal":
            return
        key, value = keyed(elem)
        if key not in RESYNC_FIELDS:
            return
        typ = strip_pointer(lit.child_by_field_name("type"))
        q = self.ctx.go.qualified(typ) if typ is not None else None
        if q is None:
            return
        if key == "ResyncPeriod" and q[0] != CACHE:
            return
        if key == "SyncPeriod" and not q[0].startswith(CTRL):
            return
        if skips_test_code(self):
            return
        target = self._pointee(value, elem)
        if target is not None:
            self._check(target, f"`{key}` of `{text(typ)}`", fixable=value.type != "unary_expression")

    def _pointee(self, value, at):
        """The duration expression behind ``&d``, ``ptr.To(d)``, ``pointer.Duration(d)``, or ``value``."""
        if value is None:
            return None
        if value.type == "unary_expression" and text(value.child_by_field_name("operator")) == "&":
            return value.child_by_field_name("operand")
        if value.type == "type_conversion_expression":  # ptr.To[time.Duration](d)
            typ = value.child_by_field_name("type")
            inner = typ.child_by_field_name("type") if typ is not None and typ.type == "generic_type" else None
            if inner is not None and text(inner.child_by_field_name("name")) in POINTER_HELPERS:
                return value.child_by_field_name("operand")
            return None
        if value.type == "call_expression":
            _, name = selector_parts(value)
            args = call_args(value)
            if name in POINTER_HELPERS and len(args) == 1:
                return args[0]
            return None
        return value

    # ---- the check ----
    def _check(self, arg, what: str, fixable: bool) -> None:
        d = self.ctx.go.duration(arg)
        if d is None or d.ns <= 0:
            return
        if not d.has_unit and d.ns < CLIENT_GO_FLOOR_NS:
            via = f" (`{d.ident}`)" if d.ident else ""
            msg = (f"resync period `{_short(text(arg))}`{via} passed to {what} has no unit: a `time.Duration` counts "
                   f"nanoseconds, so this resyncs every {format_duration(d.ns)} (the informer busy-loops and "
                   f"re-delivers every cached object to its handlers every second); write "
                   f"`{_number(d.ns)} * time.Second` (or 0 to disable resync)")
            fix = self._fix(arg) if fixable else None
            self.report(arg, msg, fix=fix)
        elif d.ns < self._min and d.ns < CLIENT_GO_FLOOR_NS:
            msg = (f"resync period {format_duration(d.ns)} passed to {what} is below client-go's floor of 1s: "
                   f"handlers are resynced every second at most, not every {format_duration(d.ns)}, while the "
                   "informer still checks for a resync that often; use a period of minutes to hours, or 0 if "
                   "nothing needs it")
            self.report(arg, msg, severity="warning")
        elif d.ns < self._min:
            msg = (f"resync period {format_duration(d.ns)} passed to {what} is below the minimum of "
                   f"{format_duration(self._min)} (option `{MIN_PERIOD}`): every resync re-delivers every cached "
                   f"object to the handlers; use a period of minutes to hours, or 0 if nothing needs it")
            self.report(arg, msg, severity="note")  # a team's policy, not a bug

    def _fix(self, arg):
        node = unwrap(arg, deref=True) if arg.type == "parenthesized_expression" else arg
        if node.type == "literal_element":
            node = node.named_children[0] if node.named_child_count else node
        if node.type == "int_literal":
            number = text(node)
            target = node
        elif node.type == "call_expression" and self.ctx.go.qualified(node.child_by_field_name("function")) == \
                (TIME, "Duration") and len(call_args(node)) == 1 and call_args(node)[0].type == "int_literal":
            number = text(call_args(node)[0])
            target = node
        else:
            return None
        pkg, imp = self.ctx.go.ensure_import(self, TIME, "time")
        edits = [self.edit(target, f"{number} * {pkg}.Second")]
        if imp is not None:
            edits.append(imp)
        return self.fix(f"Count the period in seconds: `{number} * {pkg}.Second`", *edits, applicability="unsafe")


def _number(ns: float) -> str:
    return str(int(ns)) if float(ns).is_integer() else f"{ns:g}"


def _short(code: str, n: int = 40) -> str:
    code = " ".join(code.split())
    return code if len(code) <= n else code[: n - 1] + "…"
