"""Text output (issue 18, items 3, 6 and 7): the severity on every line, --color with
NO_COLOR / FORCE_COLOR, and summaries that count what they say."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnlint.cli import color_choice, main
from conftest import cnlint, write

GO = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(1)\n\tfmt.Println(2)\n\tfmt.Println(3)\n}\n'
CLEAN_GO = "package ok\n\nfunc F() int { return 1 }\n"
ANSI = "\x1b["

MORE_RULES = '''
import libcst as cst
from cnlint import PythonRule

class Unsafe(PythonRule):
    id = "TXT001"; name = "unsafe-fix"; summary = "x"; fixable = "unsafe"
    def visit_Call(self, node):
        if getattr(node.func, "value", "") == "eval":
            self.report(node, "eval", replacement=node.with_changes(func=cst.Name("literal_eval")),
                        applicability="unsafe")

class Suggest(PythonRule):
    id = "TXT002"; name = "suggest"; summary = "x"; fixable = "suggestion"
    def visit_Call(self, node):
        if getattr(node.func, "value", "") == "exec":
            self.report(node, "exec", replacement=node.with_changes(func=cst.Name("run")),
                        applicability="suggestion")

class Crash(PythonRule):
    id = "TXT003"; name = "crash"; summary = "x"
    def visit_Call(self, node):
        if getattr(node.func, "value", "") == "boom":
            raise RuntimeError("boom")
'''


@pytest.fixture
def more(project):
    write(project, {"morerules.py": MORE_RULES})
    (project / "pyproject.toml").write_text('[tool.cnlint]\nrule-paths = ["testrules.py", "morerules.py"]\n'
                                            'extend-exclude = ["*rules.py"]\n')
    return project


def summary_line(r) -> str:
    return r.stdout.rstrip("\n").splitlines()[-1]


# ---- severity on every line ----

def test_every_finding_line_names_its_severity(project):
    (project / "pyproject.toml").write_text(
        '[tool.cnlint]\nrule-paths = ["testrules.py"]\nextend-exclude = ["testrules.py"]\n'
        "[tool.cnlint.severity]\nTST001 = 'error'\nTST003 = 'note'\n")
    write(project, {"a.go": GO, "b.py": "eval('x')\n", "c.ts": "console.log(1)\n"})
    r = cnlint("check", "-q")
    lines = [x for x in r.stdout.splitlines() if not x.startswith(("Found", " "))]
    assert lines == [
        "a.go:6:2: error[TST001] fmt.Println call [*]",
        "a.go:7:2: error[TST001] fmt.Println call [*]",
        "a.go:8:2: error[TST001] fmt.Println call [*]",
        "b.py:1:1: note[TST003] eval call",
        "c.ts:1:1: warning[TST002] console use",
    ], r.output


def test_github_format_keeps_its_own_levels(project):
    write(project, {"a.go": GO})
    r = cnlint("check", "--format", "github")
    assert r.stdout.startswith("::warning "), r.output
    assert "warning[" not in r.stdout


# ---- colour ----

@pytest.mark.parametrize("flag, env, expected", [
    (None, {}, None),
    (None, {"NO_COLOR": "1"}, False),
    (None, {"NO_COLOR": ""}, None),  # empty: not set (no-color.org)
    (None, {"FORCE_COLOR": "1"}, True),
    (None, {"FORCE_COLOR": "0"}, None),
    (None, {"FORCE_COLOR": ""}, None),
    (None, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),
    ("always", {"NO_COLOR": "1"}, True),
    ("never", {"FORCE_COLOR": "1"}, False),
    ("auto", {"FORCE_COLOR": "1"}, None),  # the flag beats the environment: a terminal decides
    ("auto", {"NO_COLOR": "1"}, None),
])
def test_color_choice(flag, env, expected):
    assert color_choice(flag, env) is expected


def run_colored(args, env=None, terminal=False):
    """CliRunner's ``color`` stands for "stdout is a terminal"."""
    env = {"NO_COLOR": None, "FORCE_COLOR": None, **(env or {})}
    return CliRunner().invoke(main, args, env=env, color=terminal, catch_exceptions=False)


@pytest.mark.parametrize("args, env, terminal, colored", [
    (["check"], {}, False, False),  # auto, not a terminal: CI logs
    (["check"], {}, True, True),  # auto, a terminal
    (["check", "--color", "always"], {}, False, True),
    (["--color", "always", "check"], {}, False, True),  # on the group too
    (["--color", "always", "check", "--color", "never"], {}, True, False),  # the subcommand's wins
    (["check", "--color", "never"], {}, True, False),
    (["check"], {"NO_COLOR": "1"}, True, False),
    (["check"], {"FORCE_COLOR": "1"}, False, True),
    (["check", "--color", "always"], {"NO_COLOR": "1"}, False, True),
    (["check", "--color", "never"], {"FORCE_COLOR": "1"}, True, False),
    (["check", "--color", "auto"], {"FORCE_COLOR": "1"}, False, False),
])
def test_color_option_and_environment(project, args, env, terminal, colored):
    write(project, {"a.go": GO})
    r = run_colored(args, env, terminal)
    assert r.exit_code == 1, r.output
    assert (ANSI in r.stdout) is colored, r.stdout
    assert "a.go:6:2: warning[TST001] fmt.Println call" in r.stdout.replace("\x1b[0m", "").replace(
        "\x1b[1m", "").replace("\x1b[33m", "")


def test_no_color_on_other_commands(project):
    r = run_colored(["rules", "--color", "always"])
    assert ANSI in r.stdout
    assert ANSI not in run_colored(["rules"], {"FORCE_COLOR": "0", "NO_COLOR": "1"}, terminal=True).stdout
    assert ANSI not in run_colored(["--color", "never", "rules"], terminal=True).stdout


def test_color_in_a_real_pipe(project):
    """The real process: a pipe is not a terminal, FORCE_COLOR and --color always still colour."""
    write(project, {"a.go": GO})
    base = [sys.executable, "-m", "cnlint.cli", "check", "--no-cache", "a.go"]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    plain = subprocess.run(base, capture_output=True, text=True, env=env)
    assert plain.returncode == 1 and ANSI not in plain.stdout, plain.stdout + plain.stderr
    forced = subprocess.run(base, capture_output=True, text=True, env=dict(env, FORCE_COLOR="1"))
    assert ANSI in forced.stdout
    never = subprocess.run(base + ["--color", "never"], capture_output=True, text=True,
                           env=dict(env, FORCE_COLOR="1"))
    assert ANSI not in never.stdout and "a.go:6:2: warning[TST001]" in never.stdout


def test_output_file_is_never_colored(project):
    write(project, {"a.go": GO})
    r = run_colored(["check", "--color", "always", "-o", "out.txt"])
    assert r.exit_code == 1
    assert ANSI not in (project / "out.txt").read_text()


# ---- summaries ----

def test_summary_counts_files_with_findings_and_files_checked(project):
    write(project, {"a.go": GO, "b.go": CLEAN_GO, "c.go": CLEAN_GO})
    r = cnlint("check", "--no-cache")
    assert summary_line(r) == "Found 3 findings in 1 file (3 files checked); 3 fixable with `--fix`.", r.output


def test_clean_summary(project):
    write(project, {"b.go": CLEAN_GO})
    r = cnlint("check", "--no-cache")
    assert r.exit_code == 0 and summary_line(r) == "All checks passed! (1 file checked)"


def test_crash_is_not_all_checks_passed(more):
    write(more, {"x.py": "boom()\n"})
    r = cnlint("check", "--no-cache", "-j", "1", "x.py")
    assert r.exit_code == 2, r.output
    assert "All checks passed" not in r.stdout
    assert summary_line(r) == "No findings, but 1 internal error (1 file checked).", r.output
    assert "TXT003" in r.stderr


def test_crash_beside_findings_is_in_the_brackets(more):
    write(more, {"x.py": "boom()\neval('x')\n"})
    r = cnlint("check", "--no-cache", "-j", "1", "x.py")
    assert r.exit_code == 2, r.output
    assert summary_line(r).startswith("Found 2 findings in 1 file (1 file checked)")
    assert summary_line(r).endswith("[1 internal error]")


def test_binary_file_is_named_as_a_skipped_file(project):
    write(project, {"bin.py": b"\0\0\0binary", "b.go": CLEAN_GO})
    r = cnlint("check", "--no-cache", "-j", "1")
    assert r.exit_code == 0, r.output
    assert summary_line(r) == "All checks passed! (2 files checked) [1 file skipped]"
    assert "bin.py: binary file" in r.stderr and "binary" not in r.stdout


def test_statistics_and_summary_agree_on_fixable(more):
    write(more, {"a.go": GO, "x.py": "eval('1')\nexec('2')\n"})
    r = cnlint("check", "--no-cache", "--statistics", "-q")
    out = r.stdout.splitlines()
    stats = {line.split()[1]: line for line in out if line.startswith(" ") and line.split()[0].isdigit()}
    assert stats["TST001"].endswith("(3 fixable)")
    assert stats["TXT001"].endswith("(1 with unsafe fixes)")
    assert "fix" not in stats["TXT002"].split("suggest", 1)[1]  # a suggestion is not fixable
    assert "fix" not in stats["TST003"].split("py-eval", 1)[1]
    assert out[-1] == ("Found 6 findings in 2 files (2 files checked); 3 fixable with `--fix`, "
                       "1 with unsafe fixes (`--fix --unsafe-fixes`)."), r.output


def test_new_from_rev_says_what_hid_the_findings(project):
    from test_baseline import commit, git

    git(project, "init", "-q")
    write(project, {".gitignore": ".cnlint_cache/\n", "a.go": GO})
    commit(project)
    r = cnlint("check", "--new-from-rev", "HEAD")
    assert r.exit_code == 0, r.output
    assert summary_line(r) == "All checks passed! (1 file checked) [3 hidden on unchanged lines]"
    assert "baseline" not in r.stdout


def test_baseline_and_new_from_rev_counted_apart(project):
    from test_baseline import commit, git

    git(project, "init", "-q")
    write(project, {".gitignore": ".cnlint_cache/\n", "a.go": GO, "b.go": GO})
    assert cnlint("check", "--write-baseline", "bl.jsonl", "a.go").exit_code == 0
    commit(project)
    r = cnlint("check", "--baseline", "bl.jsonl", "--new-from-rev", "HEAD")
    assert r.exit_code == 0, r.output
    assert summary_line(r).endswith("[3 hidden by baseline, 3 hidden on unchanged lines]"), r.output


# ---- help ----

def test_top_level_help_shows_every_command_description_in_full(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = cnlint("--help")
    commands = r.stdout.split("Commands:", 1)[1]
    assert "..." not in commands, commands
    for name in ("check", "config", "explain", "merge-sarif", "rules", "server", "test-rules"):
        assert f"  {name} " in commands
    assert "--color" in cnlint("check", "--help").stdout


# ---- one error style ----

@pytest.mark.parametrize("args, message", [
    (["check", "--foo"], "No such option '--foo'"),
    (["check", "--config", "nope.toml"], "Invalid value for '--config'"),
    (["check", "--format", "xml"], "Invalid value for '--format'"),
    (["check", "--color", "purple"], "Invalid value for '--color'"),
    (["nosuch"], "No such command 'nosuch'"),
    (["explain"], "name a rule"),  # cnlint's own errors: the same style
])
def test_usage_errors_have_one_style_and_exit_2(project, args, message):
    r = cnlint(*args)
    assert r.exit_code == 2, r.output
    first = r.stderr.splitlines()[0]
    assert first.startswith("cnlint: error: ") and message in first, r.stderr
    assert "Error:" not in r.stderr and not r.stdout


@pytest.mark.parametrize("option", ["--new-from-rev", "--new-from-merge-base"])
def test_unknown_revision_is_named_not_a_git_exit_status(project, option):
    from test_baseline import commit, git

    git(project, "init", "-q")
    write(project, {".gitignore": ".cnlint_cache/\n", "a.go": GO})
    commit(project)
    r = cnlint("check", option, "nosuchrev")
    assert r.exit_code == 2, r.output
    assert r.stderr == f"cnlint: error: {option} nosuchrev: no commit of that name in this git repository\n"


def test_include_baseline_shows_hidden_findings_marked_in_text(project):
    from test_baseline import commit, git

    git(project, "init", "-q")
    write(project, {".gitignore": ".cnlint_cache/\n", "a.go": GO})
    assert cnlint("check", "--write-baseline", "bl.jsonl").exit_code == 0
    write(project, {"a.go": GO.replace("fmt.Println(3)", "fmt.Println(3)\n\tfmt.Println(4)")})
    r = cnlint("check", "--baseline", "bl.jsonl", "--include-baseline", "-q")
    assert r.exit_code == 1, r.output
    assert r.stdout.splitlines() == [
        "a.go:6:2: warning[TST001] fmt.Println call [*] [unchanged]",
        "a.go:7:2: warning[TST001] fmt.Println call [*] [unchanged]",
        "a.go:8:2: warning[TST001] fmt.Println call [*] [unchanged]",
        "a.go:9:2: warning[TST001] fmt.Println call [*]",
        "Found 1 finding in 1 file (1 file checked); 1 fixable with `--fix`. [3 hidden by baseline]",
    ], r.output
    plain = cnlint("check", "--baseline", "bl.jsonl", "-q")
    assert "[unchanged]" not in plain.stdout and plain.stdout.count("warning[TST001]") == 1


def test_json_summary_counts_baseline_and_unchanged_lines_apart(project):
    import json

    from test_baseline import commit, git

    git(project, "init", "-q")
    write(project, {".gitignore": ".cnlint_cache/\n", "a.go": GO})
    commit(project)
    summary = json.loads(cnlint("check", "--new-from-rev", "HEAD", "--format", "json").stdout)["summary"]
    assert summary["hidden_by_baseline"] == 0 and summary["hidden_on_unchanged_lines"] == 3


def test_forced_colour_never_starts_a_github_workflow_command(project):
    """FORCE_COLOR is common in GitHub Actions: colour codes must not uncover a ``::command``."""
    import re

    write(project, {"::warning file=x::y.py": "eval('x')\n", "::error::z.go": GO})
    r = run_colored(["check", "--no-cache", "."], {"FORCE_COLOR": "1"})
    assert r.exit_code == 1 and ANSI in r.stdout, r.output
    assert "warning[TST003]" in r.stdout.replace("\x1b[33m\x1b[1m", "")
    for line in r.stdout.splitlines():
        assert not re.match(r"^(?:\s|\x1b\[[0-9;]*m)*::", line), line


def test_errors_are_named_by_kind_in_the_summary(project):
    write(project, {"b.go": CLEAN_GO})
    r = cnlint("check", "servcie/", "b.go")
    assert r.exit_code == 2, r.output
    assert summary_line(r) == "No findings, but 1 path not found (1 file checked)."
    (project / "pyproject.toml").write_text('[tool.cnlint]\nrule-paths = ["testrules.py", "gone.py"]\n'
                                            'extend-exclude = ["testrules.py"]\n')
    r = cnlint("check", "b.go")
    assert r.exit_code == 2, r.output
    assert summary_line(r) == "No findings, but 1 configuration error (1 file checked).", r.output


def test_include_suppressed_in_text_marks_them_and_does_not_count_them(project):
    write(project, {"s.py": 'import requests\n'
                            'requests.get("https://x", verify=False, timeout=5)  # cnlint: ignore[SEC001] -- legacy\n'
                            'requests.get("https://y", verify=False, timeout=5)  # cnlint: ignore[SEC001]\n'})
    plain = cnlint("check", "--no-cache", "--select", "SEC001", "s.py")
    assert plain.exit_code == 0 and "SEC001" not in plain.stdout
    r = cnlint("check", "--no-cache", "--select", "SEC001", "--include-suppressed", "s.py")
    assert r.exit_code == 0, r.output  # suppressed findings never fail the run
    lines = [line for line in r.stdout.splitlines() if line.startswith("s.py:")]
    assert [line.rsplit(" [", 1)[1] for line in lines] == ["suppressed: legacy]", "suppressed]"]
    assert "[2 suppressed]" in r.stdout
