"""Constant evaluation of Go expressions, in particular ``time.Duration``
arithmetic (``15 * time.Second``, ``time.Duration(n) * time.Millisecond``),
and Go's own formatting and parsing of durations."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple, Optional

from .syntax import call_args, keyed_elements, literal_value, text

if TYPE_CHECKING:
    from .semantics import GoSemantics

TIME = "time"
METAV1 = "k8s.io/apimachinery/pkg/apis/meta/v1"

#: nanoseconds of the ``time`` package's duration constants
TIME_UNITS = {
    "Nanosecond": 1, "Microsecond": 10**3, "Millisecond": 10**6,
    "Second": 10**9, "Minute": 60 * 10**9, "Hour": 3600 * 10**9,
}
#: calls that return their duration argument (or a pointer to it)
_PASS_THROUGH = {
    (TIME, "Duration"), ("k8s.io/utils/ptr", "To"), ("k8s.io/utils/pointer", "Duration"),
    ("k8s.io/utils/pointer", "DurationPtr"),
}
_NUMERIC_CONVERSIONS = ("int", "int32", "int64", "uint", "uint32", "uint64", "float32", "float64")
_MAX_DEPTH = 8


class Duration(NamedTuple):
    """A constant duration: nanoseconds, whether a time unit (``time.Second``...)
    took part (``30`` alone is 30ns, probably a mistake) and the name of the
    constant or variable it came from ("" for an inline expression)."""

    ns: float
    has_unit: bool
    ident: str = ""


def int_literal(lit: str) -> Optional[float]:
    """The value of a Go number literal (``1_000``, ``0x10``, ``0o17``, ``017``, ``1.5e9``)."""
    lit = lit.replace("_", "")
    try:
        if lit.lower().startswith(("0x", "0b", "0o")):
            return int(lit, 0)
        if len(lit) > 1 and lit.startswith("0") and lit.isdigit():
            return int(lit, 8)
        return int(lit)
    except ValueError:
        try:
            return float(lit)
        except ValueError:
            return None


def duration(go: "GoSemantics", node, allowed=None, depth: int = 0) -> Optional[Duration]:
    """Evaluate ``node`` as a ``time.Duration``: number literals, ``time.Second``
    and the other units, ``+ - * /``, unary ``-``/``+``/``&``, conversions
    (``time.Duration(x)``, ``int64(x)``), ``ptr.To(x)``-style pointer helpers,
    ``metav1.Duration{Duration: x}``, and constants or never-changed variables
    initialised with such an expression (a ``&x`` inside ``allowed`` does not
    count as a change). None when the value is not constant here (flags,
    fields, function results)."""
    if node is None or depth > _MAX_DEPTH:
        return None
    t = node.type
    if t == "literal_element":
        return duration(go, literal_value(node), allowed, depth + 1)
    if t in ("int_literal", "float_literal"):
        v = int_literal(text(node))
        return Duration(v, False) if v is not None else None
    if t == "parenthesized_expression" and node.named_child_count:
        return duration(go, node.named_children[0], allowed, depth + 1)
    if t == "selector_expression":
        q = go.qualified(node)
        return Duration(TIME_UNITS[q[1]], True) if q is not None and q[0] == TIME and q[1] in TIME_UNITS else None
    if t == "unary_expression":
        op = text(node.child_by_field_name("operator"))
        inner = duration(go, node.child_by_field_name("operand"), allowed, depth + 1)
        if inner is None or op not in ("-", "+", "&"):
            return None
        return inner._replace(ns=-inner.ns) if op == "-" else inner
    if t == "binary_expression":
        return _binary(go, node, allowed, depth)
    if t == "type_conversion_expression":
        typ = node.child_by_field_name("type")
        if go.qualified(typ) == (TIME, "Duration") or text(typ) in _NUMERIC_CONVERSIONS:
            return duration(go, node.child_by_field_name("operand"), allowed, depth + 1)
        return None
    if t == "call_expression":
        fn = node.child_by_field_name("function")
        args = call_args(node)
        converts = fn is not None and fn.type == "identifier" and text(fn) in _NUMERIC_CONVERSIONS
        if len(args) == 1 and (converts or go.package_function(node) in _PASS_THROUGH):
            return duration(go, args[0], allowed, depth + 1)
        return None
    if t == "composite_literal":
        if go.qualified(node.child_by_field_name("type")) == (METAV1, "Duration"):
            kv = keyed_elements(node.child_by_field_name("body"))
            if "Duration" in kv:
                return duration(go, kv["Duration"][1], allowed, depth + 1)
        return None
    if t == "identifier":
        value = go.constant_value(node, allowed)
        inner = duration(go, value, allowed, depth + 1) if value is not None else None
        return inner._replace(ident=inner.ident or text(node)) if inner is not None else None
    return None


def _binary(go, node, allowed, depth) -> Optional[Duration]:
    op = text(node.child_by_field_name("operator"))
    a = duration(go, node.child_by_field_name("left"), allowed, depth + 1)
    b = duration(go, node.child_by_field_name("right"), allowed, depth + 1)
    if a is None or b is None or op not in ("*", "/", "+", "-"):
        return None
    unit = a.has_unit or b.has_unit
    if op == "*":
        v = a.ns * b.ns
    elif op == "/":
        if b.ns == 0:
            return None
        v = a.ns / b.ns
        unit = a.has_unit and not b.has_unit  # time.Minute / time.Second is a plain 60
    else:
        v = a.ns + b.ns if op == "+" else a.ns - b.ns
    return Duration(v, unit, a.ident or b.ident)


_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
          "h": 3600 * 10**9}
_PART_RE = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(s: str) -> int:
    """Nanoseconds of a Go duration string ("1m", "90s", "1h30m"), like ``time.ParseDuration``."""
    s = s.strip()
    sign = -1 if s.startswith("-") else 1
    body = s.lstrip("+-")
    if body in ("0", ""):
        return 0
    pos, total = 0, 0.0
    for m in _PART_RE.finditer(body):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(body):
        raise ValueError(f"not a Go duration: {s!r} (write e.g. \"1m\", \"30s\", \"1h30m\")")
    return sign * int(total)


def format_duration(ns: float) -> str:
    """Go's ``time.Duration.String()``: ``1h30m0s``, ``1m30s``, ``1.5s``, ``500ms``, ``1.5µs``, ``60ns``."""
    n = int(round(ns))
    if n == 0:
        return "0s"
    sign, n = ("-", -n) if n < 0 else ("", n)
    if n < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if n >= size:
                return sign + _fraction(n, size) + unit
    out = ""
    h, rest = divmod(n, 3600 * 10**9)
    m, rest = divmod(rest, 60 * 10**9)
    if h:
        out += f"{h}h"
    if h or m:
        out += f"{m}m"
    return sign + out + _fraction(rest, 10**9) + "s"


def _fraction(n: int, size: int) -> str:
    """``n / size`` with the decimals Go prints (trailing zeros dropped)."""
    whole, frac = divmod(n, size)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"
