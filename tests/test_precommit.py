"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit (try-repo)."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import RULES, write

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
GO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }\n'


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                            GIT_COMMITTER_EMAIL="t@t"))


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    return str(tmp_path_factory.mktemp("pre-commit-home"))


def try_repo(repo, hook, home, *extra):
    exe = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or "pre-commit"
    return subprocess.run([exe, "try-repo", ROOT, hook, "--all-files", "--verbose", *extra], cwd=repo,
                          capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PRE_COMMIT_HOME=home))


def test_hooks_with_real_pre_commit(tmp_path, pre_commit_home):
    repo = tmp_path / "repo"
    write(repo, {
        "lint/testrules.py": RULES,
        "pyproject.toml": '[tool.cnlint]\nrule-paths = ["lint/testrules.py"]\nextend-exclude = ["lint/", "gen/"]\n',
        "main.go": GO,
        "gen/generated.go": GO,  # excluded by config: must stay excluded although pre-commit names it
        "web/app.ts": "export const x = 1;\n",
        "README.md": "not linted\n",
    })
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")

    r = try_repo(repo, "cnlint", pre_commit_home)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "main.go:5:15: warning[TST001] fmt.Println call" in r.stdout
    assert "gen/generated.go" not in r.stdout

    r = try_repo(repo, "cnlint-fix", pre_commit_home)
    assert r.returncode == 1, r.stdout + r.stderr  # it changed a file: the hook fails
    assert (repo / "main.go").read_text() == GO.replace("fmt.Println", "log.Println")
    assert (repo / "gen" / "generated.go").read_text() == GO  # excluded files are not fixed

    r = try_repo(repo, "cnlint", pre_commit_home)
    assert r.returncode == 0, r.stdout + r.stderr
