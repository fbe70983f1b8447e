"""Trust and configuration: whose config applies, what it may run, and that
every malformed value is a clear error (exit 2), never a traceback or a
silently disabled check (issue #15, docs/security.md)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import cnlint, cnlint_subprocess, write

LEAK = "import requests\nrequests.get('https://x', verify=False, timeout=5)\n"


def test_config_in_a_parent_directory_of_the_repository_is_not_used(tmp_path, monkeypatch):
    write(tmp_path, {"cnlint.toml": 'ignore = ["SEC001"]\n', "alice/app.py": LEAK})
    (tmp_path / "alice" / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "alice")
    r = cnlint("check", "app.py")
    assert r.exit_code == 1 and "SEC001" in r.output
    # ... from the parent directory too: the file lies in alice's repository
    monkeypatch.chdir(tmp_path)
    assert "SEC001" in cnlint("check", "alice/app.py").output


def test_outside_git_discovery_stops_at_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path, {"cnlint.toml": 'ignore = ["SEC001"]\n', "alice/src/app.py": LEAK})
    monkeypatch.chdir(tmp_path / "alice")
    assert "SEC001" in cnlint("check", "src/app.py").output
    monkeypatch.chdir(tmp_path)  # the user works in the directory that holds the config
    assert "SEC001" not in cnlint("check", "alice/src/app.py").output


def test_config_between_the_file_and_the_repository_root_is_used(tmp_path, monkeypatch):
    write(tmp_path, {"pyproject.toml": '[tool.cnlint]\nignore = ["SEC001"]\n', "svc/deep/app.py": LEAK})
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "svc" / "deep")
    assert "SEC001" not in cnlint("check", "app.py").output


def test_isolated_ignores_config_and_custom_rules(project):
    marker = project / "ran.txt"
    write(project, {"evil.py": f"open({str(marker)!r}, 'w').write('x')\n", "a.py": "x = eval('1')\n" + LEAK,
                    "pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py", "evil.py"]\n'
                                      'ignore = ["SEC001"]\nextend-exclude = ["testrules.py", "evil.py"]\n'})
    r = cnlint("check", "--isolated", "a.py")
    assert "SEC001" in r.output and "TST003" not in r.output
    assert not marker.exists()
    r = cnlint("check", "a.py")  # the CLI trusts the repository's own config (as its tests would)
    assert "TST003" in r.output and "SEC001" not in r.output and marker.exists()
    r = cnlint("check", "--isolated", "--config", "pyproject.toml", "a.py")
    assert r.exit_code == 2 and "--isolated" in r.output


@pytest.mark.parametrize("toml, needle", [
    ('ignore = ["SEC001", ""]\n', "empty"),
    ('select = [""]\n', "empty"),
    ('extend-select = [" "]\n', "empty"),
    ('[per-file-ignores]\n"*.py" = [""]\n', "empty rule selector"),
    ('[per-file-ignores]\n"" = ["SEC001"]\n', "empty glob"),
    ('exclude = ["!"]\n', "invalid glob"),
    ('[severity]\nSEC001 = ["error"]\n', "severity.SEC001"),
    ('[options.PERF001]\nmode = "rm -rf /"\n', "expected one of syntactic, compiler"),
    ('jobs = -1\n', "non-negative"),
])
def test_malformed_values_are_config_errors(tmp_path, monkeypatch, toml, needle):
    write(tmp_path, {"cnlint.toml": toml, "a.py": LEAK})
    monkeypatch.chdir(tmp_path)
    r = cnlint("check", "a.py")
    assert r.exit_code == 2, r.output
    assert needle in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("name, content, needle", [
    ("cnlint.toml", b"select = ['SEC\xff']\n", "not valid UTF-8"),
    ("cnlint.toml", b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "nested too deeply"),
    ("pyproject.toml", b'tool = "x"\n', "`tool` must be a table"),
    ("pyproject.toml", b'[tool]\ncnlint = 3\n', "`tool.cnlint` must be a table"),
])
def test_unreadable_config_files_are_config_errors(tmp_path, monkeypatch, name, content, needle):
    write(tmp_path, {name: content, "a.py": LEAK})
    monkeypatch.chdir(tmp_path)
    r = cnlint("check", "a.py")
    assert r.exit_code == 2 and needle in r.output, r.output


def test_config_command_exits_2_when_what_it_resolves_is_broken(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"cnlint.toml": 'rule-paths = ["missing_rules"]\n'})
    r = cnlint("config")
    assert r.exit_code == 2 and "missing_rules" in r.output
    write(tmp_path, {"cnlint.toml": 'baseline = "nope.json"\n'})
    r = cnlint("config")
    assert r.exit_code == 2 and "nope.json" in r.output
    write(tmp_path, {"cnlint.toml": 'plugins = ["not-installed-xyz"]\n'})
    r = cnlint("config")
    assert r.exit_code == 2 and "not-installed-xyz" in r.output
    write(tmp_path, {"cnlint.toml": 'select = ["SEC"]\n'})
    assert cnlint("config").exit_code == 0


def test_a_custom_rule_reporting_a_non_string_message_is_named(project):
    write(project, {"bad.py": "from cnlint import PythonRule\n"
                              "class Bad(PythonRule):\n"
                              "    id = 'TST050'; name = 'bad'; summary = 'x'\n"
                              "    def visit_Name(self, node):\n"
                              "        self.report(node, 42)\n",
                    "a.py": "x = 1\n",
                    "pyproject.toml": '[tool.cnlint]\nrule-paths = ["bad.py"]\nextend-exclude = ["bad.py"]\n'})
    r = cnlint("check", "a.py")
    assert r.exit_code == 2 and "TST050" in r.output and "message must be a str" in r.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_a_slow_rule_import_exits_130(tmp_path):
    started = tmp_path / "started"
    write(tmp_path, {"slow.py": f"import time\nopen({str(started)!r}, 'w').close()\ntime.sleep(60)\n",
                     "cnlint.toml": 'rule-paths = ["slow.py"]\nextend-exclude = ["slow.py"]\n',
                     "a.py": "x = 1\n"})
    proc = subprocess.Popen([sys.executable, "-m", "cnlint", "check", "a.py"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not started.exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err


def test_rule_option_from_the_command_line_is_validated_too(tmp_path, monkeypatch):
    write(tmp_path, {"a.go": "package a\n"})
    monkeypatch.chdir(tmp_path)
    r = cnlint("check", "--rule-option", "PERF001.mode=rm", "a.go")
    assert r.exit_code == 2 and "expected one of" in r.output
    assert cnlint_subprocess("check", "--rule-option", "PERF001.mode=syntactic", "a.go",
                             cwd=tmp_path, env={**os.environ}).returncode == 0


def test_symlinked_files_outside_the_repository_are_not_read(tmp_path, monkeypatch):
    secret = tmp_path / "home" / "credentials.py"
    write(tmp_path, {"home/credentials.py": "aws_secret_access_key = AKIA SECRET\n",
                     "repo/lib/real.py": "def f(:\n"})
    repo = tmp_path / "repo"
    (repo / ".git").mkdir()
    (repo / "leak.py").symlink_to(secret)
    (repo / "alias.py").symlink_to(repo / "lib" / "real.py")  # inside the repository: linted once
    monkeypatch.chdir(repo)
    r = cnlint("check", "--select", "CN001", ".")
    assert "SECRET" not in r.output and "leak.py: symbolic link to a file outside the repository" in r.output
    assert r.output.count("CN001") == 1 and r.exit_code == 1
