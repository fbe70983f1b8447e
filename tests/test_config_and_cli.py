"""Configuration, rule selection, file discovery and the CLI's commands."""

import json
import os
import sys

import pytest

from conftest import cnlint, cnlint_subprocess, write

GO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }\n'
BASE = '[tool.cnlint]\nrule-paths = ["testrules.py"]\n'


def set_config(project, extra: str, name="pyproject.toml"):
    (project / name).write_text(BASE + extra if name == "pyproject.toml" else extra)


def ids(result):
    return sorted({f["rule_id"] for f in json.loads(result.stdout)["findings"]})


@pytest.mark.parametrize("extra, message", [
    ("selct = ['TST']\n", "unknown key 'selct' (did you mean 'select'?)"),
    ("select = ['TST00']\n", None),  # a prefix that matches is fine
    ("select = ['TSX001']\n", "unknown rule or selector 'TSX001' (did you mean 'TST001'?)"),
    ("[tool.cnlint.severity]\nTST001 = 'fatal'\n", "severity.TST001 = 'fatal': use error, warning or note"),
    ("[tool.cnlint.options.TST003]\nnmes = ['x']\n", "unknown option 'nmes' (did you mean 'names'?)"),
    ("[tool.cnlint.options.TST003]\nnames = 'eval'\n", "options.TST003.names: expected list"),
    ("[tool.cnlint.options.TST001]\nx = 1\n", "TST001 has no options"),
    ("[tool.cnlint.options.TST004]\nx = 1\n", "unknown rule 'TST004'"),
    ("jobs = 'many'\n", "jobs must be a non-negative integer"),
])
def test_config_mistakes_are_clear_errors(project, extra, message):
    write(project, {"a.go": GO})
    set_config(project, extra)
    r = cnlint("check")
    if message is None:
        assert r.exit_code == 1
    else:
        assert r.exit_code == 2, r.output
        assert message in r.stderr


def test_invalid_toml_is_an_error(project):
    (project / "pyproject.toml").write_text("[tool.cnlint\n")
    r = cnlint("check")
    assert r.exit_code == 2 and "invalid TOML" in r.stderr


def test_cli_selector_mistake(project):
    write(project, {"a.go": GO})
    r = cnlint("check", "--select", "TST001,NOPE1")
    assert r.exit_code == 2 and "unknown rule or selector 'NOPE1'" in r.stderr


def test_select_ignore_and_specificity(project):
    write(project, {"a.go": GO, "b.ts": "console.log(1)\n", "c.py": "eval('x')\n"})
    assert ids(cnlint("check", "--format", "json")) == ["TST001", "TST002", "TST003"]
    assert ids(cnlint("check", "--format", "json", "--select", "TST002")) == ["TST002"]
    assert ids(cnlint("check", "--format", "json", "--ignore", "TST00")) == []
    assert ids(cnlint("check", "--format", "json", "--select", "TST", "--ignore", "TST003")) == ["TST001", "TST002"]
    # the more specific selector wins: ignore a prefix, select one rule back in
    set_config(project, "select = ['TST001']\nignore = ['TST']\n")
    assert ids(cnlint("check", "--format", "json")) == ["TST001"]
    set_config(project, "select = ['TST002']\nignore = ['TST']\nextend-select = ['TST003']\n")
    assert ids(cnlint("check", "--format", "json")) == ["TST002", "TST003"]
    set_config(project, "select = ['TST']\nignore = ['TST002']\n")
    assert ids(cnlint("check", "--format", "json")) == ["TST001", "TST003"]
    # on a tie, ignore wins
    set_config(project, "ignore = ['TST003']\n")
    assert ids(cnlint("check", "--format", "json", "--select", "TST003")) == []


def test_severity_override_and_per_file_ignores(project):
    write(project, {"a.go": GO, "gen/b.go": GO, "c.py": "eval('x')\n"})
    set_config(project, "[tool.cnlint.severity]\nTST = 'note'\nTST001 = 'error'\n"
                        "[tool.cnlint.per-file-ignores]\n'gen/**' = ['TST001']\n")
    got = {(f["path"], f["severity"]) for f in json.loads(cnlint("check", "--format", "json").stdout)["findings"]}
    assert got == {("a.go", "error"), ("c.py", "note")}


def test_cnlint_toml_wins_and_is_found_by_walking_up(project):
    write(project, {"sub/deep/a.go": GO})
    (project / "cnlint.toml").write_text('rule-paths = ["testrules.py"]\nignore = ["TST001"]\n')
    (project / ".git").mkdir()  # up to the repository's root (docs/security.md)
    os.chdir(project / "sub" / "deep")
    r = cnlint("check", "--format", "json")
    assert ids(r) == [] and r.exit_code == 0
    r = cnlint("config")
    doc = json.loads(r.stdout)
    assert doc["path"] == str(project / "cnlint.toml") and "TST001" not in doc["enabled-rules"]


def test_gitignore_exclude_and_explicit_files(project):
    write(project, {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".gitignore": "generated/\n*.gen.go\n",
        "pkg/.gitignore": "local.go\n!keep.gen.go\n",
        "generated/a.go": GO, "x.gen.go": GO, "pkg/local.go": GO, "pkg/keep.gen.go": GO,
        "node_modules/m/index.js": "console.log(1)\n", "vendor/v.go": GO, "main.go": GO,
        "scripts/tool": "#!/usr/bin/env node\nconsole.log(1)\n",
        "skip/me.go": GO,
    })
    set_config(project, "extend-exclude = ['skip/']\n")
    paths = sorted({f["path"] for f in json.loads(cnlint("check", "--format", "json").stdout)["findings"]})
    assert paths == ["main.go", "pkg/keep.gen.go", "scripts/tool"]
    # walking from a subdirectory still honours the .gitignore files above it
    os.chdir(project / "pkg")
    paths = sorted({f["path"] for f in json.loads(cnlint("check", "--format", "json").stdout)["findings"]})
    assert paths == ["keep.gen.go"]
    os.chdir(project)
    # a file named explicitly is linted, unless --force-exclude (pre-commit)
    assert cnlint("check", "skip/me.go").exit_code == 1
    r = cnlint("check", "--force-exclude", "skip/me.go")
    assert r.exit_code == 0 and "No files checked." in r.stdout


def test_missing_path_is_reported(project):
    r = cnlint("check", "nope.go")
    assert "nope.go: no such file or directory" in r.stderr


def test_rules_explain_and_help(tmp_path):
    r = cnlint("rules")
    assert r.exit_code == 0 and "CN001" in r.stdout and "syntax-error" in r.stdout
    header, *lines = r.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "ON", "LANGUAGES", "SEVERITY", "FIX", "SUMMARY"]
    on = {line.split()[0]: line.split()[2] for line in lines if line[:1].isupper() and not line.startswith("ON")}
    assert on["CN001"] == "yes" and on["PERF001"] == "opt-in"  # PERF001 is off by default
    rows = json.loads(cnlint("rules", "--format", "json").stdout)
    assert {"id", "name", "languages", "severity", "fixable", "pack", "enabled", "enabled_by_default"} <= set(rows[0])
    perf = next(row for row in rows if row["id"] == "PERF001")
    assert not perf["enabled"] and not perf["enabled_by_default"]
    (tmp_path / "cnlint.toml").write_text('select = ["PERF"]\n')
    with_perf = json.loads(cnlint("rules", "--format", "json", "--config", str(tmp_path / "cnlint.toml")).stdout)
    assert next(row for row in with_perf if row["id"] == "PERF001")["enabled"]
    r = cnlint("explain", "CN002")
    assert r.exit_code == 0 and "## Why is this bad?" in r.stdout
    assert cnlint("explain", "unused-suppression").stdout == r.stdout
    r = cnlint("explain", "CN003")
    assert r.exit_code == 2
    for cmd in ([], ["check"], ["rules"], ["explain"], ["test-rules"], ["config"]):
        assert cnlint(*cmd, "--help").exit_code == 0


def test_builtin_help_pages_have_every_section():
    from cnlint.loader import load_rules
    from cnlint.rule import HELP_SECTIONS

    for rid, info in load_rules().rules.items():
        positions = [info.meta.help.find(s) for s in HELP_SECTIONS + ("## How to fix",)]
        assert -1 not in positions and positions == sorted(positions), f"{rid} help page sections"


def test_test_rules_command_reports_mismatches(project):
    write(project, {
        "fx/TST001/bad.go": 'package b\n\nimport "fmt"\n\nfunc f() {\n\tfmt.Println(1) // want: TST001\n'
                            '\tfmt.Println(2)\n}\n',
        "fx/TST003/ok.py": "eval('x')  # want: TST003 \"eval call\"\n",
        "fx/TST003/trap.py": "evaluate('x')\n",
    })
    r = cnlint("test-rules", "fx")
    assert r.exit_code == 1
    assert "bad.go:7: unexpected TST001: fmt.Println call" in r.stdout
    assert "TST003   ok" in r.stdout and "1 passed, 1 failed" in r.stdout


def test_plugin_entry_point(tmp_path):
    site = tmp_path / "site"
    write(site, {
        "acme_rules.py": "from cnlint import PythonRule\n"
                         "class NoPass(PythonRule):\n"
                         "    id = 'ACME001'; name = 'no-pass'; summary = 'pass statement'\n"
                         "    def visit_Pass(self, node):\n"
                         "        self.report(node, 'pass found')\n",
        "acme_rules-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: acme-rules\nVersion: 0.1\n",
        "acme_rules-0.1.dist-info/entry_points.txt": "[cnlint.rules]\nacme = acme_rules\n",
    })
    write(tmp_path, {"proj/a.py": "def f():\n    pass\n"})
    env = dict(os.environ, PYTHONPATH=str(site))
    r = cnlint_subprocess("check", ".", cwd=tmp_path / "proj", env=env)
    assert r.returncode == 1, r.stderr
    assert "a.py:2:5: warning[ACME001] pass found" in r.stdout
    r = cnlint_subprocess("rules", cwd=tmp_path / "proj", env=env)
    assert "ACME001" in r.stdout and "no-pass" in r.stdout


def test_rule_docs_pages_are_in_sync():
    """docs/rules/<ID>.md (the helpUri of every built-in rule) match `cnlint explain`."""
    from cnlint.cli import rule_page
    from cnlint.loader import load_rules

    docs = os.path.join(os.path.dirname(__file__), "..", "docs", "rules")
    for rid, info in load_rules().rules.items():
        path = os.path.join(docs, f"{rid}.md")
        assert os.path.isfile(path), f"missing {path}: run `cnlint explain --write-docs docs/rules`"
        with open(path, encoding="utf-8") as f:
            assert f.read() == rule_page(info), f"{path} is stale: run `cnlint explain --write-docs docs/rules`"
