"""Baselines and new-code-only runs, on real git repositories built here."""

import json
import os
import subprocess

import pytest

from conftest import cnlint, write

GO_HEAD = 'package main\n\nimport "fmt"\n\n'


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")).stdout


def commit(repo, msg="c"):
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", msg)


def funcs(*bodies):
    return GO_HEAD + "".join(f"func f{i}() {{\n\tfmt.Println({b!r})\n}}\n\n".replace("'", '"')
                             for i, b in enumerate(bodies))


def findings(r):
    doc = json.loads(r.stdout)
    return [(f["path"], f["start"]["line"], f["message"]) for f in doc["findings"]], doc


@pytest.fixture
def repo(project):
    git(project, "init", "-q")
    write(project, {".gitignore": ".cnlint_cache/\n", "a.go": funcs("a", "b", "c"), "b.go": funcs("x")})
    commit(project, "init")
    return project


def test_baseline_hides_old_findings_and_survives_moves(repo):
    r = cnlint("check", "--write-baseline", "cnlint-baseline.jsonl")
    assert r.exit_code == 0 and "Wrote 4 findings (4 entries)" in r.stdout
    lines = (repo / "cnlint-baseline.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {"cnlint-baseline": 1, "tool-version": "0.1.0"}
    assert lines[1:] == sorted(lines[1:])  # sorted, one entry per line: diff-friendly
    r = cnlint("check", "--baseline", "cnlint-baseline.jsonl")
    assert r.exit_code == 0 and "4 hidden by baseline" in r.stdout

    # move code within a file (f2 to the top), add lines above, move f0 of a.go into b.go,
    # duplicate an old finding, and add a new one
    write(repo, {
        "a.go": GO_HEAD + "// a new comment\n\nfunc f2() {\n\tfmt.Println(\"c\")\n}\n\n"
                          "func f1() {\n\tfmt.Println(\"b\")\n}\n\n"
                          "func dup() {\n\tfmt.Println(\"b\")\n}\n",
        "b.go": funcs("x") + "func f0() {\n\tfmt.Println(\"a\")\n}\n\nfunc g() {\n\tfmt.Println(\"new\")\n}\n",
    })
    got, doc = findings(cnlint("check", "--format", "json", "--baseline", "cnlint-baseline.jsonl"))
    assert got == [("a.go", 16, "fmt.Println call"), ("b.go", 14, "fmt.Println call")]
    assert {f["baseline_state"] for f in doc["findings"]} == {"new"}
    assert doc["summary"]["hidden_by_baseline"] == 4

    # fixed findings are counted, and --write-baseline prunes them
    write(repo, {"b.go": GO_HEAD})
    got, doc = findings(cnlint("check", "--format", "json", "--baseline", "cnlint-baseline.jsonl"))
    assert doc["summary"]["baseline_fixed"] == 2  # b.go's x and the moved a
    r = cnlint("check", "--write-baseline", "cnlint-baseline.jsonl")
    assert "Wrote 3 findings (2 entries)" in r.stdout  # the duplicate shares an entry, count 2


def test_baseline_from_config_and_old_versions(repo):
    write(repo, {"old.jsonl": json.dumps({"cnlint-baseline": 1, "tool-version": "0.0.1"}) + "\n"
                 + json.dumps({"path": "a.go", "rule": "GONE001", "fingerprint": "abc", "count": 1}) + "\n"})
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text() + 'baseline = "old.jsonl"\n')
    got, doc = findings(cnlint("check", "--format", "json"))
    assert len(got) == 4 and doc["summary"]["baseline_fixed"] == 1  # a rule that no longer exists: fixed
    (repo / "bad.jsonl").write_text("{}\n")
    r = cnlint("check", "--baseline", "bad.jsonl")
    assert r.exit_code == 2 and "invalid baseline" in r.stderr


def test_new_from_rev(repo):
    git(repo, "mv", "b.go", "renamed.go")
    write(repo, {"a.go": funcs("a", "B!", "c"), "untracked.go": funcs("u")})
    got, doc = findings(cnlint("check", "--format", "json", "--new-from-rev", "HEAD"))
    # changed line in a.go, the untracked file; the renamed file's old code is not new
    assert got == [("a.go", 10, "fmt.Println call"), ("untracked.go", 6, "fmt.Println call")]
    r = cnlint("check", "--new-from-rev", "HEAD", "--include-baseline", "--format", "json")
    assert len(json.loads(r.stdout)["hidden"]) == 3
    commit(repo, "second")
    write(repo, {"a.go": funcs("a", "B!", "c", "d")})
    got, _ = findings(cnlint("check", "--format", "json", "--new-from-merge-base", "HEAD~1"))
    assert [g[:2] for g in got] == [("a.go", 10), ("a.go", 18), ("untracked.go", 6)]
    r = cnlint("check", "--new-from-rev", "no-such-rev")
    assert r.exit_code == 2


def test_fix_new_only(repo):
    write(repo, {"c.go": funcs("c")})
    r = cnlint("check", "--new-from-rev", "HEAD", "--fix", "--fix-new-only")
    assert "log.Println" in (repo / "c.go").read_text()
    assert "log.Println" not in (repo / "a.go").read_text()
    cnlint("check", "--new-from-rev", "HEAD", "--fix")
    assert "log.Println" in (repo / "a.go").read_text()  # --fix fixes everything by default


def test_fix_new_only_leaves_a_baselined_line_alone_in_a_fixed_file(project):
    """A fixed file is re-linted pass after pass: the baselined findings in it
    must stay unfixed, or the changed line shows up as new (issue #18)."""
    old = 'import requests\n\n\ndef a(url):\n    return requests.get(url, verify=False)\n'
    write(project, {"a.py": old})
    assert cnlint("check", "--no-cache", "--write-baseline", "base.json", ".").exit_code == 0
    write(project, {"a.py": old + '\n\ndef b(url):\n    return requests.get(url)\n'})
    r = cnlint("check", "--no-cache", "--baseline", "base.json", "--fix", "--fix-new-only", "--unsafe-fixes", ".")
    assert r.exit_code == 0, r.output
    text = (project / "a.py").read_text()
    assert "requests.get(url, verify=False)\n" in text  # the baselined line is untouched
    assert "requests.get(url, timeout=10)" in text  # the new finding is fixed
    again = cnlint("check", "--no-cache", "--baseline", "base.json", ".")
    assert again.exit_code == 0, again.output
