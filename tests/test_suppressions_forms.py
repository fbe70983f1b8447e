"""Suppression forms (issue #18, deliverable 5): malformed directives are
reported by CN002 with a fix to the working form, ``ignore-next-line``, and a
directive on the first line of a multi-line statement covering the statement."""

import json

import pytest
from conftest import cnlint, write

GO_HEAD = 'package main\n\nimport "crypto/tls"\n\nfunc f() *tls.Config {\n'
BAD = "&tls.Config{InsecureSkipVerify: true}"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    write(tmp_path, {"pyproject.toml": "[tool.cnlint]\n"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    r = cnlint("check", "--format", "json", *args)
    return json.loads(r.stdout)


def go_with(comment: str) -> str:
    return GO_HEAD + f"\tc := {BAD} {comment}\n\treturn c\n}}\n"


MALFORMED = [
    ("// cnlint: ignore[SEC001]: test server", "the reason follows ` -- `, not `:`",
     "// cnlint: ignore[SEC001] -- test server"),
    ("// cnlint: ignore[SEC001] because legacy", "the reason follows ` -- `",
     "// cnlint: ignore[SEC001] -- because legacy"),
    ("// cnlint: ignore [SEC001]", "no space before `[`", "// cnlint: ignore[SEC001]"),
    ("// CNLINT: IGNORE[SEC001]", "directives are lower case", "// cnlint: ignore[SEC001]"),
    ("// cnlint: disable[SEC001]", "`disable` is not a directive", "// cnlint: ignore[SEC001]"),
    ("/* cnlint: ignore SEC001 */", "the rule ids go in brackets", "/* cnlint: ignore[SEC001] */"),
    ("// cnlint: ignore_file[SEC001]", "`ignore_file` is not a directive", "// cnlint: ignore-file[SEC001]"),
    ("// cnlint: suppress[SEC001]", "`suppress` is not a directive", "// cnlint: ignore[SEC001]"),
    ("// cnlint: ignore[sec001]", "rule ids are upper case", "// cnlint: ignore[SEC001]"),
    # rewritten to `ignore[SEC001, K8S003]`, then --fix drops the unused K8S003
    ("// cnlint: ignore[SEC001 K8S003]", "rule ids are separated by commas", "// cnlint: ignore[SEC001]"),
    ("// cnlint ignore[SEC001]", "`cnlint` is followed by `:`", "// cnlint: ignore[SEC001]"),
    ("// cnlint-ignore[SEC001]", "`cnlint` is followed by `:`", "// cnlint: ignore[SEC001]"),
    ("// Cnlint : Ignore[sec001] - flaky", "no space before `:`", "// cnlint: ignore[SEC001] -- flaky"),
]


@pytest.mark.parametrize(("comment", "problem", "fixed"), MALFORMED)
def test_malformed_directive_is_reported_and_fixed_to_a_working_one(repo, comment, problem, fixed):
    write(repo, {"a.go": go_with(comment)})
    out = run("a.go")
    by_rule = {f["rule_id"]: f for f in out["findings"]}
    # it suppresses nothing, so the finding stays, and the directive is reported
    assert set(by_rule) == {"SEC001", "CN002"}, out["findings"]
    cn = by_rule["CN002"]
    assert cn["message"].startswith("malformed suppression")
    assert problem in cn["message"]
    assert cn["start"]["line"] == 6
    assert cn["fix"]["applicability"] == "safe"

    r = cnlint("check", "--fix", "a.go")
    assert r.exit_code == 0, r.output
    text = (repo / "a.go").read_text()
    assert text == go_with(fixed)
    # the fixed directive works: SEC001 suppressed, nothing reported
    out = run("a.go")
    assert out["findings"] == []


@pytest.mark.parametrize("comment", [
    "// cnlint is our linter",
    "// run cnlint: it checks TLS settings",
    "// see cnlint: docs/rules",
    "// cnlint: skip tests with --exclude",
    "// we let cnlint ignore this file",
    "// cnlint ignores generated files",
    "// write `cnlint: ignore[SEC001]` to silence it",
    '// write "CNLINT: IGNORE[SEC001]" to silence it',
    "// cnlint: suppressions are documented in the README",
    "// cnlint: ignore[SEC001] -- a well-formed one",
])
def test_ordinary_comments_are_not_flagged(repo, comment):
    write(repo, {"a.go": go_with(comment)})
    rules = {f["rule_id"] for f in run("a.go")["findings"]}
    assert "CN002" not in rules


def test_directive_text_in_a_string_is_not_flagged(repo):
    write(repo, {"a.py": 's = "# CNLINT: IGNORE[SEC001]: x"\n'})
    assert run("a.py")["findings"] == []


def test_python_malformed_directive(repo):
    write(repo, {"a.py": 'import requests\n\nr = requests.get("https://x", verify=False, timeout=5)  # cnlint: disable[SEC001]\n'})
    rules = sorted(f["rule_id"] for f in run("a.py")["findings"])
    assert rules == ["CN002", "SEC001"]
    assert cnlint("check", "--fix", "a.py").exit_code == 0
    assert (repo / "a.py").read_text().endswith("# cnlint: ignore[SEC001]\n")


def test_ignore_next_line(repo):
    write(repo, {"a.go": GO_HEAD + f"\t// cnlint: ignore-next-line[SEC001] -- test only\n\tc := {BAD}\n"
                                   f"\td := {BAD}\n\t_ = d\n\treturn c\n}}\n"})
    out = run("a.go")
    assert [(f["rule_id"], f["start"]["line"]) for f in out["findings"]] == [("SEC001", 8)]
    r = cnlint("check", "--format", "json", "--include-suppressed", "a.go")
    sup = json.loads(r.stdout)["suppressed"]
    assert [(f["start"]["line"], f["suppressed"]["reason"]) for f in sup] == [(7, "test only")]


def test_malformed_next_line_form_fixed_to_a_working_one(repo):
    write(repo, {"a.go": GO_HEAD + f"\t// cnlint: ignore next line[SEC001]\n\tc := {BAD}\n\treturn c\n}}\n"})
    msgs = [f["message"] for f in run("a.go")["findings"] if f["rule_id"] == "CN002"]
    assert len(msgs) == 1 and "`ignore next line` is not a directive" in msgs[0]
    assert cnlint("check", "--fix", "a.go").exit_code == 0
    assert "// cnlint: ignore-next-line[SEC001]\n" in (repo / "a.go").read_text()


def test_unused_ignore_next_line_is_reported(repo):
    write(repo, {"a.go": GO_HEAD + "\t// cnlint: ignore-next-line[SEC001]\n\treturn nil\n}\n"})
    out = run("a.go")
    assert [f["rule_id"] for f in out["findings"]] == ["CN002"]
    assert out["findings"][0]["message"] == "unused suppression: no SEC001 finding on the next line"


def test_multiline_statement_go(repo):
    write(repo, {"a.go": GO_HEAD + "\tc := &tls.Config{ // cnlint: ignore[SEC001] -- test server\n"
                                   "\t\tInsecureSkipVerify: true,\n\t}\n\treturn c\n}\n"})
    assert run("a.go")["findings"] == []


def test_multiline_statement_does_not_reach_into_a_body(repo):
    write(repo, {"a.go": GO_HEAD + "\tif true { // cnlint: ignore[SEC001]\n"
                                   f"\t\treturn {BAD}\n\t}}\n\treturn nil\n}}\n"})
    rules = sorted(f["rule_id"] for f in run("a.go")["findings"])
    # the body's statement starts on its own line: not covered, and the directive is unused
    assert rules == ["CN002", "SEC001"]


def test_multiline_statement_typescript(repo):
    write(repo, {"a.ts": 'import * as https from "https";\n\n'
                         "export const agent = new https.Agent({ // cnlint: ignore[SEC001] -- local\n"
                         "  rejectUnauthorized: false,\n});\n"})
    assert run("a.ts")["findings"] == []
    write(repo, {"b.ts": 'import * as https from "https";\n\n'
                         "export const agent = new https.Agent({\n"
                         "  rejectUnauthorized: false,\n});\n"})
    assert [f["rule_id"] for f in run("b.ts")["findings"]] == ["SEC001"]


def test_multiline_statement_python(repo):
    write(repo, {"a.py": "import requests\n\n"
                         "resp = requests.get(  # cnlint: ignore[SEC001] -- internal host\n"
                         '    "https://x",\n    verify=False,\n    timeout=5,\n)\n'})
    assert run("a.py")["findings"] == []
    write(repo, {"b.py": "import requests\n\n"
                         "def f():  # cnlint: ignore[SEC001]\n"
                         '    return requests.get("https://x", verify=False, timeout=5)\n'})
    rules = sorted(f["rule_id"] for f in run("b.py")["findings"])
    assert rules == ["CN002", "SEC001"]


def test_add_suppressions_each_language_and_idempotent(repo):
    write(repo, {
        "a.go": GO_HEAD + f"\tc := {BAD} // cnlint: ignore[NET001] -- other\n\td := {BAD}\n\t_ = d\n\treturn c\n}}\n",
        "b.ts": 'import * as https from "https";\n\nexport const agent = new https.Agent({\n'
                "  rejectUnauthorized: false,\n});\n",
        "c.py": 'import requests\n\nr = requests.get("https://x", verify=False, timeout=5)\n',
    })
    r = cnlint("check", "--add-suppressions=legacy, see #12")
    assert r.exit_code == 0, r.output
    assert "Added suppressions for 4 findings in 3 files." in r.output
    go = (repo / "a.go").read_text()
    # the ids join the directive already on the line; a new comment on the other
    assert f"\tc := {BAD} // cnlint: ignore[NET001, SEC001] -- other\n" in go
    assert f"\td := {BAD} // cnlint: ignore[SEC001] -- legacy, see #12\n" in go
    assert "  rejectUnauthorized: false, // cnlint: ignore[SEC001] -- legacy, see #12\n" in (repo / "b.ts").read_text()
    assert (repo / "c.py").read_text().endswith("timeout=5)  # cnlint: ignore[SEC001] -- legacy, see #12\n")
    before = {p: (repo / p).read_text() for p in ("a.go", "b.ts", "c.py")}
    r = cnlint("check", "--add-suppressions=legacy, see #12")
    assert r.exit_code == 0 and "for 0 findings in 0 files" in r.output
    assert {p: (repo / p).read_text() for p in before} == before
    # only the unused NET001 id of the old directive is left to report
    assert [f["rule_id"] for f in run()["findings"]] == ["CN002"]


def test_add_suppressions_without_reason_and_path_after_flag(repo):
    write(repo, {"src/c.py": 'import requests\n\nr = requests.get("https://x", verify=False, timeout=5)\n'})
    r = cnlint("check", "--add-suppressions", "src")
    assert r.exit_code == 0, r.output
    assert (repo / "src/c.py").read_text().endswith("timeout=5)  # cnlint: ignore[SEC001]\n")


def test_add_suppressions_line_ending_in_a_template_literal_goes_above(repo):
    src = ('import * as https from "https";\n\n'
           "export const a = new https.Agent({ rejectUnauthorized: false }); export const t = `\n`;\n")
    write(repo, {"a.ts": src})
    r = cnlint("check", "--add-suppressions")
    assert r.exit_code == 0, r.output
    assert (repo / "a.ts").read_text() == src.replace(
        "export const a", "// cnlint: ignore-next-line[SEC001]\nexport const a")
    assert run("a.ts")["findings"] == []


def test_add_suppressions_refuses_fix_and_multiline_reason(repo):
    write(repo, {"c.py": "x = 1\n"})
    assert cnlint("check", "--add-suppressions", "--fix").exit_code == 2
    assert cnlint("check", "--add-suppressions=a */ b").exit_code == 2


def test_add_suppressions_python_continuation_and_multiline_string(repo):
    src = ('import requests\nr = requests.get("https://x", verify=False, \\\n    timeout=5)\n'
           's = requests.get("https://x", verify=False, timeout=5, headers={"a": """\n"""})\n')
    write(repo, {"e.py": src})
    assert cnlint("check", "--add-suppressions", "e.py").exit_code == 0
    assert (repo / "e.py").read_text() == src.replace("r = ", "# cnlint: ignore-next-line[SEC001]\nr = ").replace(
        "s = ", "# cnlint: ignore-next-line[SEC001]\ns = ")
    assert run("e.py")["findings"] == []
