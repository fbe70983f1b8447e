"""Rough edges of issue #18 item 9: `cnlint rules` exit code, --diff of an absolute path,
ESM001 without a tsconfig."""

import json

from conftest import cnlint, write

GO = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n'


def test_rules_is_exit_2_when_a_rule_path_is_missing(tmp_path, monkeypatch):
    write(tmp_path, {"cnlint.toml": 'rule-paths = ["nosuch_rules"]\n'})
    monkeypatch.chdir(tmp_path)
    for args in ([], ["--format", "json"]):
        r = cnlint("rules", *args)
        assert r.exit_code == 2, r.output
        assert "nosuch_rules" in r.stderr and "cnlint: error:" in r.stderr
    r = cnlint("rules", "--format", "json")
    assert any(row["id"] == "SEC001" for row in json.loads(r.stdout))  # the built-in rules are still listed


def test_rules_is_exit_0_when_everything_loads(project):
    assert cnlint("rules").exit_code == 0
    assert cnlint("rules", "--format", "json").exit_code == 0


def test_diff_of_an_absolute_path_has_no_doubled_slash(project, tmp_path_factory, monkeypatch):
    write(project, {"main.go": GO})
    path = str(project / "main.go")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))  # outside the cwd: shown absolute
    r = cnlint("check", "--diff", path)
    assert r.exit_code == 1, r.output
    assert f"--- {path}\n+++ {path}\n" in r.stdout
    assert "//" not in r.stdout.split("\n")[0]
    # a relative path keeps git's a/ b/ prefixes
    monkeypatch.chdir(project)
    r = cnlint("check", "--diff", "main.go")
    assert "--- a/main.go\n+++ b/main.go\n" in r.stdout


def test_esm001_without_tsconfig_says_what_to_set(tmp_path):
    write(tmp_path, {
        "package.json": json.dumps({"name": "p", "engines": {"node": ">=18"}, "dependencies": {"ora": "^8"}}),
        "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {
            "": {}, "node_modules/ora": {"version": "8.0.1"}}}),
        "x.ts": 'const ora = require("ora");\nora("x");\n',
    })
    r = cnlint("check", "--format", "json", "--select", "ESM001", str(tmp_path / "x.ts"))
    [f] = json.loads(r.stdout)["findings"]
    assert 'under ""' not in f["message"]
    assert "`await import('ora')`" in f["message"] and '"node16"/"nodenext"' in f["message"]
    assert 'under "commonjs"' in f["message"]


# ---- config errors name the line of the key ----

def _config_error(tmp_path, monkeypatch, name: str, text: str) -> str:
    write(tmp_path, {"a.go": GO, name: text})
    monkeypatch.chdir(tmp_path)
    r = cnlint("check", "a.go")
    assert r.exit_code == 2, r.output
    return r.stderr


def test_unknown_key_names_its_line(tmp_path, monkeypatch):
    err = _config_error(tmp_path, monkeypatch, "cnlint.toml", '# rules\nignore = []\n\nselct = ["SEC"]\n')
    assert "cnlint.toml:4: unknown key 'selct' (did you mean 'select'?)" in err


def test_pyproject_errors_name_the_line_in_the_cnlint_table(tmp_path, monkeypatch):
    # `select` of another tool's table must not be the line named
    text = ('[tool.ruff]\nselect = ["E"]\n\n[tool.cnlint]\nselect = ["SEC"]\n'
            '[tool.cnlint.severity]\nSEC002 = "note"\nSEC001 = "fatal"\n')
    err = _config_error(tmp_path, monkeypatch, "pyproject.toml", text)
    assert "pyproject.toml:8 [tool.cnlint]: severity.SEC001 = 'fatal'" in err


def test_unknown_selector_names_the_file_and_line(tmp_path, monkeypatch):
    err = _config_error(tmp_path, monkeypatch, "cnlint.toml", 'ignore = ["SEC002"]\nextend-select = ["NOPE"]\n')
    assert "cnlint.toml:2: extend-select: unknown rule or selector 'NOPE'" in err
    # on the command line there is no file to name
    r = cnlint("check", "--select", "NOPE2", "a.go")
    assert r.exit_code == 2 and "cnlint: error: --select: unknown rule or selector 'NOPE2'" in r.stderr


def test_rule_option_mistake_does_not_blame_the_config_file(project):
    write(project, {"a.go": GO})
    r = cnlint("check", "--rule-option", "TST003.nmes=['x']", "a.go")
    assert r.exit_code == 2
    assert "cnlint: error: options.TST003: unknown option 'nmes'" in r.stderr
    assert "pyproject.toml" not in r.stderr
