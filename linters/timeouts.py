"""The per-rule time limit (config ``rule-timeout``): one rule, one file.

The backends mark which rule is running (``running``); while a file is
checked, an interval timer (SIGALRM) charges each tick to that rule, and a rule
that has used up the limit on the file is stopped by raising ``RuleTimeout``
inside it. A signal handler runs only in a process's main thread, which is
where the CLI, the pool's workers and the language server check files; called
from any other thread, files are checked without a limit. Native code (a
regular expression, a parser) is stopped only when it returns to Python.
"""

from __future__ import annotations

import contextlib
import signal
import threading

running = None  # the rule whose code runs now (set by the backends), or None


class RuleTimeout(BaseException):
    """Raised inside a rule that ran past the limit (a BaseException, so that a
    rule's own ``except Exception`` does not swallow it)."""

    def __init__(self, rule, limit: float):
        super().__init__(f"ran longer than rule-timeout ({limit:g} s) on this file")
        self.rule = rule


@contextlib.contextmanager
def limit(seconds: float):
    """Enforce ``seconds`` per rule while the block checks one file."""
    global running
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    tick = min(0.1, seconds / 5)
    spent: dict[int, float] = {}

    def on_tick(signum, frame):
        rule = running
        if rule is None:
            return
        used = spent[id(rule)] = spent.get(id(rule), 0.0) + tick
        if used >= seconds:
            raise RuleTimeout(rule, seconds)

    before = signal.signal(signal.SIGALRM, on_tick)
    signal.setitimer(signal.ITIMER_REAL, tick, tick)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if before is not None:
            signal.signal(signal.SIGALRM, before)
        running = None
