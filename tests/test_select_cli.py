"""`--select` on the command line replaces the config's select and extend-select (issue #18)."""

import json

from conftest import cnlint, write

GO = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n'
TS = "console.log(1)\n"


def _ids(r) -> set[str]:
    return {f["rule_id"] for f in json.loads(r.stdout)["findings"]}


def _config(project, body: str) -> None:
    write(project, {"main.go": GO, "app.ts": TS,
                    "pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py"]\n'
                                      'extend-exclude = ["testrules.py"]\n' + body})


def test_command_line_select_drops_the_configs_extend_select(project):
    _config(project, 'select = ["TST002"]\nextend-select = ["TST001"]\n')
    assert _ids(cnlint("check", "--format", "json", ".")) == {"TST001", "TST002"}
    # the command line wins: only what --select names runs
    assert _ids(cnlint("check", "--format", "json", "--select", "TST002", ".")) == {"TST002"}


def test_command_line_select_drops_extend_select_without_a_config_select(project):
    _config(project, 'extend-select = ["TST001"]\n')
    assert _ids(cnlint("check", "--format", "json", "--select", "TST002", ".")) == {"TST002"}


def test_command_line_extend_select_still_adds(project):
    _config(project, 'select = ["TST002"]\nextend-select = ["TST003"]\n')
    r = cnlint("check", "--format", "json", "--select", "TST002", "--extend-select", "TST001", ".")
    assert _ids(r) == {"TST001", "TST002"}
    # without --select, --extend-select adds to the config's select and extend-select
    r = cnlint("check", "--format", "json", "--extend-select", "TST001", ".")
    assert _ids(r) == {"TST001", "TST002"}


def test_config_ignore_still_applies_under_command_line_select(project):
    _config(project, 'ignore = ["TST001"]\n')
    assert _ids(cnlint("check", "--format", "json", "--select", "TST", ".")) == {"TST002"}


def test_help_says_select_replaces_extend_select():
    out = " ".join(cnlint("check", "--help").output.split())
    assert "replaces the config's select and extend-select" in out
