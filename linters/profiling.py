"""``--profile``: where the time goes, per phase and per rule.

Off by default and then free: every probe is one ``if stats is None`` check.
Times are summed over worker processes, so they are CPU-side seconds, not
wall time.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager

stats: Counter | None = None


def enable() -> None:
    global stats
    stats = Counter()


def take() -> Counter | None:
    """This process's numbers since the last take (and start over)."""
    global stats
    out = stats
    if out is not None:
        stats = Counter()
    return out


@contextmanager
def timed(key: str):
    if stats is None:
        yield
        return
    t = time.perf_counter()
    try:
        yield
    finally:
        stats[key] += time.perf_counter() - t


def add(key: str, seconds: float) -> None:
    if stats is not None:
        stats[key] += seconds


def render(total: Counter, wall: float) -> str:
    phases = {k: v for k, v in total.items() if not k.startswith(("rule ", "files "))}
    rules = {k[5:]: v for k, v in total.items() if k.startswith("rule ")}
    lines = [f"cnlint profile (wall {wall:.2f} s; phase times are summed over workers)"]
    busy = sum(phases.values()) or 1.0
    for k, v in sorted(phases.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {k:<28} {v:8.3f} s  {100 * v / busy:5.1f}%")
    if rules:
        lines.append("  per rule (time in the rule's own callbacks):")
        for k, v in sorted(rules.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {k:<26} {v:8.3f} s")
    for k in sorted(x for x in total if x.startswith("files ")):
        lines.append(f"  {k:<28} {int(total[k]):8d}")
    return "\n".join(lines) + "\n"
