"""Exit codes CI can trust (issue #18): a typo in a path, a broken or crashing
rule never turns CI green, and `fail-on` decides which severities fail a run."""

import json

import pytest
from conftest import cnlint, write

GO_PRINTLN = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("x")\n}\n'

BAD_QUERY = '''
from cnlint import TreeSitterRule

class BadQuery(TreeSitterRule):
    id = "ACME001"; name = "bad-query"; summary = "a query with a typo"
    languages = ("go",)
    query = "(for_statement) @ok\\n(for_statment) @x"
    def on_match(self, captures):
        pass
'''

CRASH = '''
from cnlint import TreeSitterRule

class Crash(TreeSitterRule):
    id = "ACME002"; name = "crash"; summary = "always crashes"
    languages = ("go",)
    query = "(call_expression) @call"
    def on_match(self, captures):
        raise ValueError("boom")
'''

# reports `panic(...)` with a fix to `println(...)`, and crashes on `println`: on the fixed text only
FIX_THEN_CRASH = '''
from cnlint import TreeSitterRule

class FixThenCrash(TreeSitterRule):
    id = "ACME003"; name = "fix-then-crash"; summary = "fixes, then crashes"
    languages = ("go",)
    fixable = "safe"
    query = "(call_expression function: (identifier) @fn) @call"
    def on_match(self, captures):
        fn = captures["fn"][0]
        if self.text(fn) == "println":
            raise ValueError("boom on the fixed text")
        if self.text(fn) == "panic":
            self.report(fn, "panic", fix=self.fix("use println", self.edit(fn, "println")))
'''

GO_PANIC = 'package main\n\nfunc main() {\n\tpanic("x")\n}\n'


def custom(tmp_path, monkeypatch, rule: str, source: str = GO_PRINTLN):
    write(tmp_path, {"rules/custom.py": rule, "main.go": source,
                     "cnlint.toml": 'rule-paths = ["rules"]\nextend-exclude = ["rules"]\n'})
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- a path that does not exist ----

@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_missing_path_is_an_error_in_every_format(project, fmt):
    r = cnlint("check", "--format", fmt, "servcie/")
    assert r.exit_code == 2, r.output
    assert "servcie/: no such file or directory" in r.stderr
    assert "Traceback" not in r.output
    if fmt == "sarif":
        run = json.loads(r.stdout)["runs"][0]
        assert run["invocations"][0]["executionSuccessful"] is False
        notes = run["invocations"][0]["toolExecutionNotifications"]
        assert any("servcie" in n["message"]["text"] and n["level"] == "error" for n in notes)
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert [n["kind"] for n in doc["notices"]] == ["usage"] and doc["summary"]["errors"] == 1
    if fmt == "github":
        assert "::error" in r.stdout and "servcie/" in r.stdout


def test_missing_path_next_to_real_ones_still_lints_them(project):
    write(project, {"main.go": GO_PRINTLN})
    r = cnlint("check", "--format", "json", "main.go", "nope/")
    assert r.exit_code == 2
    assert [f["rule_id"] for f in json.loads(r.stdout)["findings"]] == ["TST001"]
    # --exit-zero silences findings, never errors of the run
    assert cnlint("check", "--exit-zero", "nope/").exit_code == 2


def test_missing_path_is_not_a_clean_run_in_fix_and_diff(project):
    for mode in ("--fix", "--diff"):
        r = cnlint("check", mode, "nope/")
        assert r.exit_code == 2 and "nope/: no such file or directory" in r.stderr


def test_stdin_dash_is_not_a_silent_clean_run(project):
    # without --stdin-filename (or a shebang) the language of stdin is unknown: an error
    r = cnlint("check", "-")
    assert r.exit_code == 2
    assert "stdin" in r.stderr and "--stdin-filename" in r.stderr
    assert "All checks passed" not in r.output


# ---- a tree-sitter query that does not compile ----

def _names_bad_query(text: str) -> None:
    assert "ACME001" in text and "BadQuery" in text and "custom.py" in text
    assert "line 2, column 2 of the query" in text and "for_statment" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("mode", [[], ["--diff"], ["--fix"], ["--format", "sarif"]])
def test_invalid_query_is_exit_2_without_traceback(tmp_path, monkeypatch, mode):
    custom(tmp_path, monkeypatch, BAD_QUERY)
    r = cnlint("check", *mode, ".")
    assert r.exit_code == 2, r.output
    _names_bad_query(r.stderr)
    if "sarif" in mode:
        assert json.loads(r.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_invalid_query_in_test_rules(tmp_path, monkeypatch):
    custom(tmp_path, monkeypatch, BAD_QUERY)
    write(tmp_path, {"fixtures/ACME001/main.go": GO_PRINTLN})
    r = cnlint("test-rules", "--config", "cnlint.toml", "fixtures")
    assert r.exit_code == 2, r.output
    _names_bad_query(r.stderr)


def test_missing_rule_path_is_a_config_error(tmp_path, monkeypatch):
    write(tmp_path, {"main.go": GO_PRINTLN, "cnlint.toml": 'rule-paths = ["nosuch_rules"]\n'})
    monkeypatch.chdir(tmp_path)
    r = cnlint("check", "--format", "json", ".")
    assert r.exit_code == 2
    notices = json.loads(r.stdout)["notices"]
    assert [n["kind"] for n in notices] == ["config"] and "nosuch_rules" in notices[0]["message"]


# ---- a rule that crashes ----

@pytest.mark.parametrize("mode", [[], ["--diff"], ["--fix"], ["--format", "sarif"]])
def test_crashing_rule_is_exit_2(tmp_path, monkeypatch, mode):
    custom(tmp_path, monkeypatch, CRASH)
    r = cnlint("check", *mode, ".")
    assert r.exit_code == 2, r.output
    assert "ACME002" in r.stderr and "crashed" in r.stderr and "ValueError: boom" in r.stderr
    assert "Traceback" not in r.output
    if "sarif" in mode:
        assert json.loads(r.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is False


@pytest.mark.parametrize("mode", ["--diff", "--fix"])
def test_rule_crashing_on_the_fixed_text_is_exit_2(tmp_path, monkeypatch, mode):
    custom(tmp_path, monkeypatch, FIX_THEN_CRASH, GO_PANIC)
    r = cnlint("check", mode, "main.go")
    assert r.exit_code == 2, r.output
    assert "ACME003" in r.stderr and "boom on the fixed text" in r.stderr


def test_crashing_rule_in_test_rules_is_exit_2(tmp_path, monkeypatch):
    custom(tmp_path, monkeypatch, CRASH)
    write(tmp_path, {"fixtures/ACME002/main.go": GO_PRINTLN})
    r = cnlint("test-rules", "--config", "cnlint.toml", "fixtures")
    assert r.exit_code == 2, r.output
    assert "ACME002" in r.output and "ValueError: boom" in r.output


# ---- fail-on ----

def _severity(project, level: str, extra: str = "") -> None:
    write(project, {"main.go": GO_PRINTLN})
    with open(project / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(extra + f'\n[tool.cnlint.severity]\nTST001 = "{level}"\n')


def test_notes_are_shown_and_counted_but_do_not_fail_by_default(project):
    _severity(project, "note")
    r = cnlint("check", "main.go")
    assert r.exit_code == 0, r.output
    assert "TST001" in r.stdout and "1 finding" in r.stdout
    doc = json.loads(cnlint("check", "--format", "json", "main.go").stdout)
    assert doc["summary"]["findings"] == 1


@pytest.mark.parametrize("level, fail_on, code", [
    ("note", "note", 1), ("note", "warning", 0), ("note", "error", 0), ("note", "never", 0),
    ("warning", "note", 1), ("warning", "warning", 1), ("warning", "error", 0), ("warning", "never", 0),
    ("error", "note", 1), ("error", "warning", 1), ("error", "error", 1), ("error", "never", 0),
])
def test_fail_on_from_the_command_line(project, level, fail_on, code):
    _severity(project, level)
    assert cnlint("check", "--fail-on", fail_on, "main.go").exit_code == code


def test_fail_on_from_config_and_the_command_line_wins(project):
    _severity(project, "note", extra='fail-on = "note"\n')
    assert cnlint("check", "main.go").exit_code == 1
    assert cnlint("check", "--fail-on", "warning", "main.go").exit_code == 0
    assert cnlint("check", "--exit-zero", "main.go").exit_code == 0


def test_warnings_fail_by_default_and_exit_zero_still_works(project):
    _severity(project, "warning")
    assert cnlint("check", "main.go").exit_code == 1
    assert cnlint("check", "--exit-zero", "main.go").exit_code == 0


def test_fail_on_never_does_not_hide_errors_of_the_run(project):
    _severity(project, "error")
    assert cnlint("check", "--fail-on", "never", "main.go", "nope/").exit_code == 2


def test_unknown_fail_on_value(project):
    with open(project / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write('fail-on = "warn"\n')
    r = cnlint("check", ".")
    assert r.exit_code == 2
    assert "fail-on" in r.stderr and "did you mean 'warning'" in r.stderr
    r = cnlint("check", "--fail-on", "warn", "--isolated", ".")
    assert r.exit_code == 2 and "warn" in r.stderr


# ---- the language server logs a rule that does not load and keeps serving ----

def test_language_server_logs_a_bad_query_and_keeps_serving(tmp_path):
    import asyncio

    import test_server
    from conftest import RULES
    from lsprotocol import types as lsp

    logs = []

    class Client(test_server.Client):
        def __init__(self):
            super().__init__()
            self.protocol.fm.features.pop(lsp.WINDOW_LOG_MESSAGE, None)

            @self.feature(lsp.WINDOW_LOG_MESSAGE)
            def on_log(params):
                logs.append(params)

    write(tmp_path, {"testrules.py": RULES, "bad.py": BAD_QUERY,
                     "pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py", "bad.py"]\n'})
    uri = (tmp_path / "main.go").as_uri()

    async def body(client):
        test_server.open_doc(client, uri, GO_PRINTLN, "go")
        params = await client.next_diagnostics(uri)
        assert [d.code for d in params.diagnostics] == ["TST001"]  # the other rules still run

    real = test_server.Client
    test_server.Client = Client
    try:
        asyncio.run(test_server.session(tmp_path, body))
    finally:
        test_server.Client = real
    errors = [m.message for m in logs if m.type == lsp.MessageType.Error]
    assert any("ACME001" in m and "line 2, column 2 of the query" in m for m in errors), logs
