"""The CI report formats: ``--format junit``, ``gitlab``, ``checkstyle`` and ``rdjson``.

Each is checked against what its consumer reads: rdjson against reviewdog's
own JSON schema (tests/schemas/reviewdog, vendored), gitlab against the Code
Quality format GitLab documents (tests/schemas/gitlab-codequality.schema.json,
transcribed from the docs: GitLab publishes no schema), and the XML formats,
parsed with xml.etree, against the elements and attributes of checkstyle's
checkstyle-report-1.0.0.xsd and of the common JUnit schema (Jenkins'
junit-4.xsd) that Jenkins, GitLab and Azure DevOps read.
"""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner
from cnlint.cli import main

SCHEMAS = os.path.join(os.path.dirname(__file__), "schemas")
with open(os.path.join(SCHEMAS, "reviewdog", "DiagnosticResult.json"), encoding="utf-8") as _f:
    RDJSON = jsonschema.Draft4Validator(json.load(_f))
with open(os.path.join(SCHEMAS, "gitlab-codequality.schema.json"), encoding="utf-8") as _f:
    _GL = json.load(_f)
jsonschema.Draft7Validator.check_schema(_GL)
GITLAB = jsonschema.Draft7Validator(_GL)

RULES = r'''
from cnlint import TreeSitterRule, PythonRule


class NoPrintln(TreeSitterRule):
    id = "ACME001"; name = "no-fmt-println"; summary = "Use the logger"; languages = ("go",)
    query = """(call_expression function: (selector_expression operand: (identifier) @pkg
               field: (field_identifier) @fn) (#eq? @pkg "fmt") (#eq? @fn "Println")) @call"""

    def on_match(self, captures):
        call = captures["call"][0]
        self.report(call, "use the logger",
                    fix=self.fix("use log", self.edit(call, "log.Print()"), applicability="safe"))


class PyCalls(PythonRule):
    id = "ACME003"; name = "no-eval"; summary = "No eval in Python"; severity = "note"

    def visit_Call(self, node):
        name = getattr(node.func, "value", None)
        if name == "eval":
            self.report(node, "eval is dangerous")
        elif name == "boom":
            raise RuntimeError("kaboom")
        elif name == "say":
            self.report(node, node.args[0].value.evaluated_value, severity="error")
'''

NASTY = "a \x1b[31mred\x1b[0m <b>&amp;</b> \"q\" ]]> ##[error]x \x00\x07 \u202e\ufffe end\nline2"


@pytest.fixture
def project(tmp_path, monkeypatch):
    files = {
        "myrules.py": RULES,
        "pyproject.toml": '[tool.cnlint]\nrule-paths = ["myrules.py"]\nextend-exclude = ["myrules.py"]\n',
        # the call is preceded by multi-byte characters: byte columns differ from code points
        "src/main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\t/* é𐐀 */ fmt.Println()\n}\n',
        "src/app.py": "eval('1')\n",
    }
    for rel, content in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


# ---------------------------------------------------------------- rdjson

def test_rdjson_validates_and_uses_byte_columns(project):
    r = run("--format", "rdjson", "src")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    RDJSON.validate(doc)
    assert doc["source"]["name"] == "cnlint"
    by_code = {d["code"]["value"]: d for d in doc["diagnostics"]}
    go = by_code["ACME001"]
    assert go["severity"] == "WARNING"
    assert go["location"]["path"] == "src/main.go"
    line = '\t/* é𐐀 */ fmt.Println()'
    start = len(line[:line.index("fmt")].encode()) + 1  # 1-based UTF-8 byte column
    end = len(line.encode()) + 1  # exclusive
    assert go["location"]["range"] == {"start": {"line": 6, "column": start}, "end": {"line": 6, "column": end}}
    assert start != line.index("fmt") + 1  # really bytes, not code points
    # the safe fix is a suggestion over the same range
    assert go["suggestions"] == [{"range": go["location"]["range"], "text": "log.Print()"}]
    py = by_code["ACME003"]
    assert py["severity"] == "INFO" and "suggestions" not in py
    assert py["location"]["path"] == "src/app.py"


def test_rdjson_paths_are_relative_to_the_repository_root(project):
    os.chdir(project / "src")
    r = run("--format", "rdjson", ".")
    doc = json.loads(r.stdout)
    RDJSON.validate(doc)
    assert {d["location"]["path"] for d in doc["diagnostics"]} == {"src/main.go", "src/app.py"}


def test_rdjson_empty_and_errors(project):
    (project / "src" / "app.py").write_text("x = 1\nboom()\n", encoding="utf-8")
    (project / "src" / "main.go").write_text("package main\n", encoding="utf-8")
    r = run("--format", "rdjson", "src", "nosuch")
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    RDJSON.validate(doc)
    codes = [d["code"]["value"] for d in doc["diagnostics"]]
    assert "cnlint/usage" in codes and "cnlint/internal-error" in codes
    assert all(d["severity"] == "ERROR" for d in doc["diagnostics"])
    (project / "src" / "app.py").write_text("x = 1\n", encoding="utf-8")
    r = run("--format", "rdjson", "src")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    RDJSON.validate(doc)
    assert doc["diagnostics"] == []


def test_rdjson_message_is_valid_utf8(project):
    (project / "src" / "app.py").write_text(f"say({NASTY!r})\n", encoding="utf-8")
    r = run("--format", "rdjson", "src/app.py")
    out = r.stdout_bytes.decode("utf-8")
    assert "##[" not in out
    doc = json.loads(out)
    RDJSON.validate(doc)
    assert doc["diagnostics"][0]["message"].startswith("a \x1b[31mred")  # JSON carries it losslessly


# ---------------------------------------------------------------- gitlab

def test_gitlab_code_quality(project):
    r = run("--format", "gitlab", "src")
    assert r.exit_code == 1
    issues = json.loads(r.stdout)
    GITLAB.validate(issues)
    by = {i["check_name"]: i for i in issues}
    assert by["ACME001"]["severity"] == "minor"
    assert by["ACME003"]["severity"] == "info"
    assert by["ACME001"]["location"] == {"path": "src/main.go", "lines": {"begin": 6, "end": 6}}
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_fingerprints_unique_and_stable(project):
    (project / "src" / "app.py").write_text("eval('1')\neval('1')\n", encoding="utf-8")
    first = json.loads(run("--format", "gitlab", "src").stdout)
    GITLAB.validate(first)
    assert len({i["fingerprint"] for i in first}) == len(first) == 3
    # an unrelated line added above: the same issues keep their fingerprints
    (project / "src" / "app.py").write_text("import os\n\neval('1')\neval('1')\n", encoding="utf-8")
    second = json.loads(run("--format", "gitlab", "src").stdout)
    assert {i["fingerprint"] for i in first} == {i["fingerprint"] for i in second}
    assert sorted(i["location"]["lines"]["begin"] for i in second if i["check_name"] == "ACME003") == [3, 4]


def test_gitlab_empty_is_an_empty_array_and_errors_are_blockers(project):
    (project / "src" / "app.py").write_text("boom()\n", encoding="utf-8")
    (project / "src" / "main.go").write_text("package main\n", encoding="utf-8")
    r = run("--format", "gitlab", "src")
    assert r.exit_code == 2
    issues = json.loads(r.stdout)
    GITLAB.validate(issues)
    assert [i["severity"] for i in issues] == ["blocker"]
    assert issues[0]["check_name"] == "cnlint/internal-error"
    (project / "src" / "app.py").write_text("x = 1\n", encoding="utf-8")
    r = run("--format", "gitlab", "src")
    assert r.exit_code == 0 and json.loads(r.stdout) == []


# ---------------------------------------------------------------- checkstyle

def _positive(v):
    return v is None or (v.isdigit() and int(v) >= 1)


def check_checkstyle(text: str) -> ET.Element:
    """The constraints of checkstyle-report-1.0.0.xsd that consumers rely on."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "checkstyle" and root.get("version")
    for f in root:
        assert f.tag in ("file", "error", "exception")
        if f.tag == "file":
            assert f.get("name")
            for e in f:
                assert e.tag in ("error", "exception")
                assert set(e.attrib) <= {"line", "column", "severity", "message", "source"}
                assert _positive(e.get("line")) and _positive(e.get("column"))
                assert e.get("severity") in ("ignore", "info", "warning", "error")
    return root


def test_checkstyle(project):
    r = run("--format", "checkstyle", "src")
    assert r.exit_code == 1
    root = check_checkstyle(r.stdout)
    files = {f.get("name"): f for f in root.iter("file")}
    assert set(files) == {"src/main.go", "src/app.py"}
    (err,) = files["src/main.go"]
    assert err.attrib == {"line": "6", "column": str('\t/* é𐐀 */ '.__len__() + 1), "severity": "warning",
                          "message": "use the logger", "source": "cnlint.ACME001"}
    assert files["src/app.py"][0].get("severity") == "info"


def test_checkstyle_escapes_control_characters(project):
    (project / "src" / "app.py").write_text(f"say({NASTY!r})\n", encoding="utf-8")
    r = run("--format", "checkstyle", "src/app.py")
    assert "##[" not in r.stdout and "\x1b" not in r.stdout and "\x00" not in r.stdout
    root = check_checkstyle(r.stdout)
    msg = root.find("file/error").get("message")
    # markup is data, line ends survive attribute normalisation, controls are visible escapes
    assert msg.startswith("a \\x1b[31mred\\x1b[0m <b>&amp;</b> \"q\" ]]> ##[error]x \\x00\\x07 \\u202e\\ufffe end")
    assert msg.endswith(" end\nline2")


def test_checkstyle_errors_of_the_run(project):
    r = run("--format", "checkstyle", "src", "nosuch")
    assert r.exit_code == 2
    root = check_checkstyle(r.stdout)
    assert any(e.get("source") == "cnlint.usage" and e.get("severity") == "error" for e in root.iter("error"))


# ---------------------------------------------------------------- junit

def check_junit(text: str) -> ET.Element:
    """What Jenkins, GitLab and Azure DevOps read (junit-4.xsd's shape), and consistent counts."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        cases = list(suite)
        assert all(c.tag == "testcase" and c.get("name") and c.get("classname") for c in cases)
        outcome = {k: sum(1 for c in cases if c.find(k.rstrip("s") if k != "skipped" else k) is not None)
                   for k in ("failures", "errors", "skipped")}
        assert int(suite.get("tests")) == len(cases)
        for k, n in outcome.items():
            assert int(suite.get(k)) == n, (suite.get("name"), k)
            total[k] += n
        total["tests"] += len(cases)
        for c in cases:
            assert len([x for x in c if x.tag in ("failure", "error", "skipped")]) <= 1
            float(c.get("time"))
        float(suite.get("time"))
    assert {k: int(root.get(k)) for k in total} == total
    assert total["tests"] >= 1  # Jenkins' junit step fails on a report without tests
    return root


def test_junit(project):
    r = run("--format", "junit", "src")
    assert r.exit_code == 1
    root = check_junit(r.stdout)
    suites = {s.get("name"): s for s in root}
    assert set(suites) == {"src/main.go", "src/app.py", "cnlint"}
    (case,) = suites["src/main.go"]
    assert case.get("classname") == "src/main.go" and case.get("file") == "src/main.go" and case.get("line") == "6"
    failure = case.find("failure")
    assert failure.get("message") == "use the logger" and failure.get("type") == "warning"
    assert "src/main.go:6:" in failure.text and "warning[ACME001]" in failure.text
    # a note does not fail the run (fail-on = warning), so it is a passing test case, shown in system-out
    (note,) = suites["src/app.py"]
    assert note.find("failure") is None and "note[ACME003]" in note.find("system-out").text
    assert root.get("failures") == "1"


def test_junit_fail_on_note_fails_notes(project):
    r = run("--format", "junit", "--fail-on", "note", "src")
    root = check_junit(r.stdout)
    assert root.get("failures") == "2"


def test_junit_clean_run_has_one_passing_test(project):
    (project / "src" / "app.py").write_text("x = 1\n", encoding="utf-8")
    (project / "src" / "main.go").write_text("package main\n", encoding="utf-8")
    r = run("--format", "junit", "src")
    assert r.exit_code == 0
    root = check_junit(r.stdout)
    assert root.get("tests") == "1" and root.get("failures") == "0" and root.get("errors") == "0"


def test_junit_errors_of_the_run_are_errors(project):
    (project / "src" / "app.py").write_text("boom()\n", encoding="utf-8")
    r = run("--format", "junit", "src", "nosuch")
    assert r.exit_code == 2
    root = check_junit(r.stdout)
    assert int(root.get("errors")) == 2
    kinds = {e.get("type") for e in root.iter("error")}
    assert kinds == {"usage", "internal-error"}


def test_junit_suppressed_are_skipped(project):
    (project / "src" / "app.py").write_text("eval('1')  # cnlint: ignore[ACME003] -- trusted input\n",
                                            encoding="utf-8")
    r = run("--format", "junit", "--include-suppressed", "src/app.py")
    root = check_junit(r.stdout)
    (skipped,) = list(root.iter("skipped"))
    assert "trusted input" in skipped.get("message")
    r = run("--format", "junit", "src/app.py")
    assert not list(check_junit(r.stdout).iter("skipped"))


def test_junit_escapes_control_characters(project):
    (project / "src" / "app.py").write_text(f"say({NASTY!r})\n", encoding="utf-8")
    r = run("--format", "junit", "src/app.py")
    assert "##[" not in r.stdout and "\x1b" not in r.stdout
    root = check_junit(r.stdout)
    failure = next(root.iter("failure"))
    assert failure.get("message").endswith(" end\nline2")
    assert "\\x1b[31mred" in failure.text and "]]>" in failure.text and "<b>&amp;</b>" in failure.text


# ---------------------------------------------------------------- all of them

@pytest.mark.parametrize("fmt", ["junit", "gitlab", "checkstyle", "rdjson"])
def test_output_file_and_non_utf8_names(project, fmt):
    if sys.platform == "win32":
        pytest.skip("POSIX file names")
    name = os.fsdecode(b"src/bad\xff.py")
    with open(name, "w", encoding="utf-8") as f:
        f.write("eval('1')\n")
    r = run("--format", fmt, "--output", "report.out", "src")
    assert r.exit_code == 1
    data = (project / "report.out").read_bytes().decode("utf-8")  # valid UTF-8
    # the byte that is not UTF-8 is the text \xff (in JSON, a string holding a backslash)
    assert ("bad\\\\xff.py" if fmt in ("gitlab", "rdjson") else "bad\\xff.py") in data


def test_formats_are_lazy():
    """The reporters not in use are not imported (the CLI imports them on demand)."""
    import subprocess

    code = ("import sys, cnlint.cli; mods = [m for m in sys.modules if m.startswith('cnlint.reporters.')];"
            "print(' '.join(mods))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for mod in ("junit", "gitlab", "checkstyle", "rdjson", "xmlout", "ci_common"):
        assert f"cnlint.reporters.{mod}" not in out.split()


def test_rdjson_joins_the_edits_of_a_fix_and_skips_the_bom(tmp_path):
    """Several edits of one safe fix are one suggestion over the range they
    cover, with the text between them kept; a BOM is not a column."""
    from cnlint.model import Applicability, Edit, Finding, Fix, Severity, Span
    from cnlint.reporters import rdjson
    from cnlint.runner import RunResult

    (tmp_path / ".git").mkdir()
    path = tmp_path / "a.py"
    data = b"\xef\xbb\xbfx = f(1, 2)\n"
    path.write_bytes(data)
    b = data.index(b"1")  # byte offsets into the file, BOM included

    def span(start, end):
        return Span(1, start - 2, 1, end - 2, start, end, start - 2, end - 2)  # columns: no BOM, 1-based

    fix = Fix("swap", (Edit(span(b + 3, b + 4), "1"), Edit(span(b, b + 1), "2")), Applicability.SAFE)
    f = Finding(str(path), span(b, b + 4), "X001", "swap them", Severity.ERROR, fix=fix)
    doc = json.loads(rdjson.render(RunResult(findings=[f], root=str(tmp_path))))
    RDJSON.validate(doc)
    (d,) = doc["diagnostics"]
    assert d["location"]["path"] == "a.py"
    assert d["location"]["range"] == {"start": {"line": 1, "column": 7}, "end": {"line": 1, "column": 11}}
    assert d["suggestions"] == [{"range": d["location"]["range"], "text": "2, 1"}]
    unsafe = Finding(str(path), span(b, b + 4), "X001", "swap them", Severity.ERROR,
                     fix=Fix("swap", fix.edits, Applicability.UNSAFE))
    doc = json.loads(rdjson.render(RunResult(findings=[unsafe], root=str(tmp_path))))
    assert "suggestions" not in doc["diagnostics"][0]


@pytest.mark.parametrize("fmt", ["junit", "gitlab", "checkstyle", "rdjson"])
def test_missing_path_is_in_every_report(project, fmt):
    r = run("--format", fmt, "servcie/")
    assert r.exit_code == 2
    assert "servcie/: no such file or directory" in r.stderr
    assert "no such file or directory" in r.stdout and "usage" in r.stdout
    if fmt == "gitlab":
        GITLAB.validate(json.loads(r.stdout))
    elif fmt == "rdjson":
        RDJSON.validate(json.loads(r.stdout))
    else:
        (check_junit if fmt == "junit" else check_checkstyle)(r.stdout)
