"""`cnlint check -` lints stdin as the file --stdin-filename names (issue #18)."""

import json

from click.testing import CliRunner
from cnlint.cli import main
from conftest import write

GO_PRINTLN = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n'


def run(*args, input):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_findings_name_the_stdin_filename_in_text_and_json(project):
    r = run("check", "-", "--stdin-filename", "cmd/app/main.go", input=GO_PRINTLN)
    assert r.exit_code == 1, r.output
    assert "cmd/app/main.go:6:2:" in r.stdout and "TST001" in r.stdout
    assert not (project / "cmd").exists()  # the file need not exist, and is not created
    r = run("check", "--format", "json", "-", "--stdin-filename", "cmd/app/main.go", input=GO_PRINTLN)
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert [(f["path"], f["rule_id"]) for f in doc["findings"]] == [("cmd/app/main.go", "TST001")]


def test_stdin_filename_alone_reads_stdin(project):
    r = run("check", "--stdin-filename", "main.go", input=GO_PRINTLN)
    assert r.exit_code == 1 and "main.go:6:2:" in r.stdout


def test_language_comes_from_the_name_not_the_disk(project):
    write(project, {"main.go": GO_PRINTLN})
    # the same text named as Python is not Go: no Go rule runs on it
    r = run("check", "--format", "json", "-", "--stdin-filename", "main.py", input="x = eval('1')\n")
    assert r.exit_code == 1
    assert [f["rule_id"] for f in json.loads(r.stdout)["findings"]] == ["TST003"]


def test_per_file_ignores_apply_by_the_stdin_filename(project):
    write(project, {"pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py"]\n'
                                      '[tool.cnlint.per-file-ignores]\n"legacy/**" = ["TST001"]\n'})
    r = run("check", "-", "--stdin-filename", "legacy/old.go", input=GO_PRINTLN)
    assert r.exit_code == 0, r.output
    r = run("check", "-", "--stdin-filename", "fresh/new.go", input=GO_PRINTLN)
    assert r.exit_code == 1


def test_config_is_found_from_the_stdin_filename(project, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere")
    write(project, {"sub/cnlint.toml": 'rule-paths = ["../testrules.py"]\nignore = ["TST001"]\n'})
    r = run("check", "-", "--stdin-filename", str(project / "sub" / "x.go"), input=GO_PRINTLN)
    assert r.exit_code == 0, r.output  # sub/cnlint.toml ignores TST001
    r = run("check", "-", "--stdin-filename", str(project / "x.go"), input=GO_PRINTLN)
    assert r.exit_code == 1
    assert other.exists()


def test_force_exclude_applies_to_the_stdin_filename(project):
    write(project, {"pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py"]\nexclude = ["vendor/"]\n'})
    assert run("check", "-", "--stdin-filename", "vendor/x.go", input=GO_PRINTLN).exit_code == 1
    r = run("check", "--force-exclude", "-", "--stdin-filename", "vendor/x.go", input=GO_PRINTLN)
    assert r.exit_code == 0 and "TST001" not in r.output
    # with --fix, an excluded text comes back unchanged
    r = run("check", "--fix", "--force-exclude", "-", "--stdin-filename", "vendor/x.go", input=GO_PRINTLN)
    assert r.exit_code == 0 and r.stdout == GO_PRINTLN


def test_fix_prints_the_fixed_text_on_stdout_and_findings_on_stderr(project):
    r = run("check", "--fix", "-", "--stdin-filename", "main.go", input=GO_PRINTLN)
    assert r.stdout == GO_PRINTLN.replace("fmt.Println", "log.Println")
    assert "Fixed 1 finding." in r.stderr
    assert r.exit_code == 0, r.output
    assert not (project / "main.go").exists()


def test_fix_with_nothing_to_fix_echoes_the_text(project):
    text = 'package main\n\nfunc main() {}\n'
    r = run("check", "--fix", "-", "--stdin-filename", "main.go", input=text)
    assert r.exit_code == 0 and r.stdout == text


def test_fix_leaves_unfixable_findings_on_stderr(project):
    r = run("check", "--fix", "-", "--stdin-filename", "a.ts", input="console.log(1)\n")
    assert r.stdout == "console.log(1)\n"
    assert "a.ts:1:1:" in r.stderr and "TST002" in r.stderr
    assert r.exit_code == 1


def test_diff_of_stdin(project):
    r = run("check", "--diff", "-", "--stdin-filename", "main.go", input=GO_PRINTLN)
    assert r.exit_code == 1
    assert "--- a/main.go" in r.stdout and '+\tlog.Println("hi")' in r.stdout


def test_unknown_language_is_exit_2(project):
    r = run("check", "-", "--stdin-filename", "notes.txt", input="hello\n")
    assert r.exit_code == 2 and "notes.txt" in r.stderr and "cnlint: error:" in r.stderr
    r = run("check", "-", input="hello\n")
    assert r.exit_code == 2 and "--stdin-filename" in r.stderr
    assert "All checks passed" not in r.output


def test_shebang_tells_the_language_without_a_name(project):
    r = run("check", "--format", "json", "-", input="#!/usr/bin/env python3\neval('1')\n")
    assert r.exit_code == 1, r.output
    assert [(f["path"], f["rule_id"]) for f in json.loads(r.stdout)["findings"]] == [("-", "TST003")]


def test_dash_with_other_paths_or_a_name_without_dash(project):
    write(project, {"main.go": GO_PRINTLN})
    assert run("check", "-", "main.go", input="").exit_code == 2
    r = run("check", "main.go", "--stdin-filename", "x.go", input="")
    assert r.exit_code == 2 and "--stdin-filename" in r.stderr


def test_project_facts_come_from_the_stdin_filename(tmp_path, monkeypatch):
    # ESM001 reads package.json and the lockfile next to the named file, which itself does not exist
    write(tmp_path, {
        "web/package.json": json.dumps({"name": "p", "engines": {"node": ">=18"}, "dependencies": {"ora": "^8"}}),
        "web/package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {
            "": {}, "node_modules/ora": {"version": "8.0.1"}}}),
    })
    monkeypatch.chdir(tmp_path)
    text = 'const ora = require("ora");\nora("x");\n'
    r = run("check", "--format", "json", "--select", "ESM001", "-", "--stdin-filename", "web/src/x.js", input=text)
    [f] = json.loads(r.stdout)["findings"]
    assert f["path"] == "web/src/x.js" and "ora@8.0.1" in f["message"]
    # the same text elsewhere, with no package.json, is not a finding
    r = run("check", "--format", "json", "--select", "ESM001", "-", "--stdin-filename", "other/x.js", input=text)
    assert json.loads(r.stdout)["findings"] == []


def test_fix_with_json_keeps_stdout_for_the_text(project):
    r = run("check", "--fix", "--format", "json", "-", "--stdin-filename", "a.ts",
            input="console.log(1)\n")
    assert r.stdout == "console.log(1)\n"
    doc = json.loads(r.stderr[r.stderr.index("{"):])
    assert [f["rule_id"] for f in doc["findings"]] == ["TST002"]
