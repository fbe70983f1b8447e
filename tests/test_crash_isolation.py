"""Crash isolation and bounded resources (issue 15, items 10-13)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from cnlint.backends import python_depth
from cnlint.pool import cpu_count
from conftest import cnlint, cnlint_subprocess, write

HIT = 'import requests\nrequests.get(url)\n'  # NET001: proves the file was linted


def deep_shapes(n: int) -> dict[str, str]:
    return {
        "parens.py": "x = " + "(" * n + "1" + ")" * n + "\n",
        "elifs.py": "if x:\n    pass\n" + "".join(f"elif x == {i}:\n    pass\n" for i in range(n)),
        "attrs.py": "x = a" + ".b" * n + "\n",
    }


@pytest.mark.parametrize("name", ["parens.py", "elifs.py", "attrs.py"])
def test_issue_shapes_are_skipped_or_syntax_errors_never_a_crash(project, name):
    write(project, {"deep/" + name: deep_shapes(10_000)[name] + HIT, "ok.py": HIT})
    r = cnlint("check", "--no-cache", "-j", "1", "deep", "ok.py")
    assert r.exit_code == 1, r.output
    assert "ok.py:2:1: warning[NET001]" in r.stdout
    if name == "parens.py":
        assert "error[CN001] syntax error: too many nested parentheses" in r.stdout
    else:
        assert "too deeply nested for the Python parser" in r.stderr and "> limit" in r.stderr


@pytest.mark.parametrize("code", [
    "if x:\n    pass\n" + "".join(f"elif x == {i}:\n    pass\n" for i in range(985)),
    "x = " + " + ".join(["a"] * 985) + "\n",
    "x = " + " and ".join(["a"] * 985) + "\n",
    "x = a" + ".b" * 985 + "\n",
    "x = a" + ".b()" * 500 + "\n",
])
def test_valid_deep_python_that_cpython_compiles_is_linted(project, code):
    compile(code, "deep.py", "exec")
    limit = sys.getrecursionlimit()
    write(project, {"deep.py": code + HIT})
    r = cnlint("check", "--no-cache", "-j", "1", "deep.py")
    assert r.exit_code == 1, r.output
    assert "NET001" in r.stdout and not r.stderr
    assert sys.getrecursionlimit() == limit  # raised for the file only


def test_depth_guard_limits():
    assert python_depth.too_deep("x = " + "(" * 201 + ")" * 201)[0] == "nested brackets"
    assert python_depth.too_deep("x = " + "(" * 200 + ")" * 200) is None
    assert python_depth.too_deep("x = a" + ".b()" * 601)[0] == "operators in one expression"
    # the operators of a multi-line chain inside brackets add up; commas and statements reset
    assert python_depth.too_deep("x = (a\n" + "+ a\n" * 1300 + ")\n")
    assert python_depth.too_deep("x = [\n" + "a.b,\n" * 5000 + "]\n") is None
    assert python_depth.too_deep("a.b.c()\n" * 5000) is None
    # brackets and operators in strings and comments do not count
    assert python_depth.too_deep("x = '" + "(" * 500 + "'  # " + "." * 5000 + "\n") is None


def _pool_project(project, extra_rule: str) -> None:
    write(project, {
        "boom_rules.py": "import os, signal, time\nfrom cnlint import PythonRule\n" + extra_rule,
        "pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py", "boom_rules.py"]\n'
                          'extend-exclude = ["testrules.py", "boom_rules.py"]\ncache = false\n',
    })
    write(project, {f"src/f{i}.py": "eval(x)\n" for i in range(30)})
    write(project, {"src/boom.py": "x = 1\n"})


def test_a_worker_killed_by_a_segfault_loses_only_its_file(project):
    _pool_project(project, '''
class Boom(PythonRule):
    id = "TST900"; name = "boom"; summary = "kills its process on boom.py"
    def visit_Module(self, node):
        if self.ctx.path.endswith("boom.py"):
            os.kill(os.getpid(), signal.SIGSEGV)
''')
    r = cnlint("check", "-j", "2", "src")
    assert r.exit_code == 2, r.output
    assert r.stdout.count("TST003") == 30
    assert "src/boom.py: the parser or a rule crashed on this file (signal 11, SIGSEGV); skipped" in r.stderr


def test_jobs_capped_at_cpus_with_a_warning(project):
    write(project, {"a.py": "eval(x)\n"})
    r = cnlint("check", "--no-cache", "-j", "100000", "a.py")
    assert r.exit_code == 1
    assert f"100000 worker processes asked for, but only {cpu_count()} CPUs available" in r.stderr


def _children(pid: int) -> set[int]:
    """Descendants of ``pid`` (a /proc scan, no psutil)."""
    parents = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parents[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for child, parent in parents.items():
            if parent == p and child not in out:
                out.add(child)
                todo.append(child)
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_workers_end_with_the_parent(project, sig):
    _pool_project(project, '''
class Slow(PythonRule):
    id = "TST900"; name = "slow"; summary = "sleeps"
    def visit_Module(self, node):
        time.sleep(60)
''')
    proc = subprocess.Popen([sys.executable, "-m", "cnlint.cli", "check", "-j", "2", "src"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 20
        while len(_children(proc.pid)) < 2 and time.time() < deadline:
            time.sleep(0.1)
        workers = _children(proc.pid)
        assert workers, "the pool never started"
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # Ctrl-C reaches the whole process group
        else:
            os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=10)  # the pipes close: no worker holds them open
        assert proc.returncode == {signal.SIGINT: 130}.get(sig, -sig)
        assert b"Traceback" not in err
        deadline = time.time() + 5
        while any(os.path.exists(f"/proc/{w}") and _state(w) != "Z" for w in workers) and time.time() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if os.path.exists(f"/proc/{w}") and _state(w) != "Z"]
    finally:
        proc.kill()
        proc.wait()


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


LOOPING_RULES = '''
class Loop(PythonRule):
    id = "TST900"; name = "loop"; summary = "never returns on loop.py"
    def visit_Module(self, node):
        if self.ctx.path.endswith("loop.py"):
            while True:
                try:
                    pass
                except Exception:  # a rule's own handler does not swallow the stop
                    pass

class GoLoop(TreeSitterRule):
    id = "TST901"; name = "go-loop"; summary = "sleeps on loop.go"
    languages = ("go",)
    def check_tree(self, root):
        if self.ctx.path.endswith("loop.go"):
            time.sleep(60)
'''


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rule_stuck_in_a_loop_is_stopped_by_the_rule_timeout(project, jobs):
    _pool_project(project, "from cnlint import TreeSitterRule\n" + LOOPING_RULES)
    with open(project / "pyproject.toml", "a") as f:
        f.write("rule-timeout = 0.3\n")
    write(project, {"src/loop.py": "eval(x)\n", "src/loop.go": "package main\n"})
    started = time.monotonic()
    r = cnlint("check", "-j", jobs, "src")
    assert time.monotonic() - started < 20
    assert r.exit_code == 1, r.output  # findings; a stopped rule is a warning, not an internal error
    assert r.stdout.count("TST003") == 31  # loop.py's own findings from the other rules too
    assert "cnlint: warning: src/loop.py: rule TST900 (Loop) stopped: ran longer than rule-timeout (0.3 s) " \
           "on this file" in r.stderr
    assert "src/loop.go: rule TST901 (GoLoop) stopped" in r.stderr


def test_rule_timeout_is_validated(project):
    with open(project / "pyproject.toml", "a") as f:
        f.write("rule-timeout = -1\n")
    r = cnlint("check", "--no-cache", ".")
    assert r.exit_code == 2 and "rule-timeout must be a non-negative number" in r.stderr


def test_valid_python_that_libcst_cannot_parse_is_skipped_not_a_syntax_error(tmp_path):
    """10,000 implicitly joined strings: CPython compiles it, libcst's parser
    gives up; that is not a CN001 on valid code, but a warning for the file."""
    joined = " ".join(['"a"'] * 10000)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.py").write_text(f"import requests\nx = ({joined})\nrequests.get(x, verify=False)\n")
    (tmp_path / "b.py").write_text("import requests\nrequests.get('https://x', verify=False, timeout=3)\n")
    compile((tmp_path / "a.py").read_text(), "a.py", "exec")  # valid Python
    r = cnlint_subprocess("check", "--isolated", "--no-cache", ".", cwd=tmp_path)
    assert "CN001" not in r.stdout
    assert "a.py: the Python parser (libcst) cannot parse this valid file" in r.stderr
    assert "b.py:2" in r.stdout and r.returncode == 1  # the other file is still linted
