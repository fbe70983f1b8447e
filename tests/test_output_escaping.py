"""Everything cnlint prints is escaped for its medium (docs/security.md, "Output
escaping"): no control character or GitHub workflow command from sources, messages
or file names in text output; JSON and SARIF always valid UTF-8; report files
written whole or not at all."""

import json
import os
import re

import pytest

from cnlint.reporters import escape as esc
from cnlint.reporters import output, text

from conftest import cnlint, write

GO_INJECTION = '''package main

import "net/http"

func f() *http.Client {
\treturn new(http. /*
::warning file=README.md,line=1::x
##[error]legacy
*/ Client)
}
'''


def _command_lines(out: str) -> list[str]:
    """Lines the GitHub runner would run: ``::`` after leading whitespace, or ``##[`` anywhere."""
    return [ln for ln in out.splitlines() if ln.lstrip().startswith("::") or "##[" in ln]


def test_go_comment_in_a_message_cannot_inject_a_workflow_command(project):
    write(project, {"main.go": GO_INJECTION})
    res = cnlint("check", "--no-cache", "--select", "NET001", "--rule-option", "NET001.client-literals=true", "main.go")
    assert res.exit_code == 1, res.output
    assert _command_lines(res.stdout) == []
    assert "/*\\n::warning file=README.md,line=1::x\\n##\\x5berror]legacy\\n*/" in res.stdout
    assert len(res.stdout.splitlines()) == 4  # header, source, carets, summary


def test_control_characters_in_file_names_and_sources(project):
    name = "a\x1b[31mb\nc\u202e.py"
    try:
        write(project, {name: "x = eval('\x1b]0;title\x07')\t# \u2066tab\u2069\n"})
    except OSError:
        pytest.skip("the file system refuses the name")
    res = cnlint("check", "--no-cache", "--select", "TST003")
    out = res.stdout + res.stderr
    assert res.exit_code == 1, out
    assert not re.search("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202e\u2066\u2069]", out.replace("\n", ""))
    header, source, carets = out.splitlines()[:3]
    assert header.startswith("a\\x1b[31mb\\nc\\u202e.py:1:5: warning[TST003] eval call")
    assert source == "    x = eval('\\x1b]0;title\\x07')\t# \\u2066tab\\u2069"  # the tab is kept
    assert carets == "        ^^^^"


def test_file_name_that_starts_a_workflow_command(project):
    try:
        write(project, {"::warning file=x::y.py": "eval('1')\n"})
    except OSError:
        pytest.skip("the file system refuses the name")
    res = cnlint("check", "--no-cache", "--select", "TST003", "::warning file=x::y.py")
    assert res.stdout.startswith("./::warning file=x::y.py:1:1: warning[TST003]"), res.output
    assert _command_lines(res.stdout) == []


def test_source_line_that_starts_with_a_command_keeps_the_caret_aligned():
    line = "  ::warning ::x = eval(1)"
    shown, carets = text.source_lines(line, line.index("eval") + 1, line.index("eval") + 5)
    assert shown == "  \\x3a:warning ::x = eval(1)"
    assert shown[len(carets) - 4:len(carets)] == "eval" and carets.endswith(" ^^^^")
    assert esc.guard_line("\x1b[1m ::x") == "\x1b[1m \\x3a:x"
    assert esc.guard_line("a ::x") == "a ::x"


def test_caret_under_escaped_characters():
    line = "s = '\x1b\u202e' + bad()"
    shown, carets = text.source_lines(line, line.index("bad") + 1, line.index("bad") + 6)
    assert shown == "s = '\\x1b\\u202e' + bad()"
    assert shown[carets.index("^"):][:5] == "bad()" and carets.count("^") == 5


def test_a_finding_on_a_huge_line_prints_a_window(project):
    line = "let x = [" + "1, " * 5_000 + "console.log(1)];"  # 15 KB
    write(project, {"big.ts": line + "\n", "huge.ts": "let y = [" + "1, " * 100_000 + "console.log(2)];\n"})
    res = cnlint("check", "--no-cache", "--select", "TST002", "big.ts")
    assert res.exit_code == 1, res.output[:500]
    assert len(res.stdout) < 1_500
    _, source, carets = res.stdout.splitlines()[:3]
    assert source.startswith("    \u2026") and source.endswith("console.log(1)];")
    assert source[carets.index("^"):][:11] == "console.log"
    shown, carets = text.source_lines("y" * 10_000, 1, None)  # a span to the end of a long line
    assert len(shown) == text.LINE_WINDOW + 1 and len(carets) == text.LINE_WINDOW
    # 300 KB: minified code is not quoted at all (a copy of the line per finding)
    res = cnlint("check", "--no-cache", "--select", "TST002", "huge.ts")
    assert res.exit_code == 1 and res.stdout.splitlines()[0].startswith("huge.ts:1:300010: warning[TST002] console use")
    assert len(res.stdout) < 300


@pytest.fixture
def xff_project(project):
    name = os.fsdecode(b"bad\xffname.py")
    try:
        (project / name).write_bytes(b"eval('1')\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses a name that is not UTF-8")
    if name not in os.listdir(project):
        pytest.skip("the file system changed the name")
    return project


def _run_bytes(*args):
    res = cnlint("check", "--no-cache", "--select", "TST003", *args)
    assert res.exit_code == 1, res.output
    return res.stdout_bytes


def test_a_non_utf8_file_name_in_every_format(xff_project):
    doc = json.loads(_run_bytes("--format", "json").decode("utf-8"))  # strict: valid UTF-8
    assert [f["path"] for f in doc["findings"]] == ["bad\\xffname.py"]
    log = json.loads(_run_bytes("--format", "sarif").decode("utf-8"))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "bad%FFname.py"  # the raw byte, percent-encoded
    assert _run_bytes("--format", "github").decode("utf-8").startswith("::warning file=bad\\xffname.py,line=1,")
    assert _run_bytes().decode("utf-8").startswith("bad\\xffname.py:1:1: warning[TST003]")


def test_a_non_utf8_file_name_in_a_baseline(xff_project):
    assert cnlint("check", "--no-cache", "--select", "TST003", "--write-baseline", "b.json").exit_code == 0
    res = cnlint("check", "--no-cache", "--select", "TST003", "--baseline", "b.json")
    assert res.exit_code == 0 and "1 hidden by baseline" in res.stdout, res.output


def test_json_and_sarif_text_is_inert_in_a_ci_log(project):
    write(project, {"main.go": GO_INJECTION})
    for fmt in ("json", "sarif"):
        res = cnlint("check", "--no-cache", "--format", fmt, "--select", "NET001", "--rule-option", "NET001.client-literals=true", "main.go")
        assert res.exit_code == 1 and "##[" not in res.stdout, res.output
        assert "##[error]legacy" in json.dumps(json.loads(res.stdout), ensure_ascii=False)  # same value
    assert esc.json_safe(json.dumps({"m": "##[x \udcff \ud800"}, ensure_ascii=False)) == \
        '{"m": "##\\u005bx \\\\xff \ufffd"}'
    assert json.loads(esc.json_safe(json.dumps("##[x"))) == "##[x"


def test_github_file_names_with_newlines_commas_and_colons(project):
    name = "a\nb,c:d.py"
    try:
        write(project, {name: "eval('1')\n"})
    except OSError:
        pytest.skip("the file system refuses the name")
    res = cnlint("check", "--no-cache", "--format", "github", "--select", "TST003")
    assert res.stdout.splitlines() == [
        "::warning file=a%0Ab%2Cc%3Ad.py,line=1,col=1,endLine=1,endColumn=5,title=TST003 py-eval::eval call"]


def test_sarif_records_no_local_paths(project):
    write(project, {"sub/a.py": "eval('1')\n", "sub/bad.py": b"\xff\xfe not utf-8\n"})
    res = cnlint("check", "--no-cache", "--format", "sarif", "--select", "TST003", str(project / "sub"))
    assert str(project) not in res.stdout
    run = json.loads(res.stdout)["runs"][0]
    assert "uri" not in run["originalUriBaseIds"]["%SRCROOT%"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"].split(":")[0] for n in notes] == ["sub/bad.py"]
    with_uri = cnlint("check", "--no-cache", "--format", "sarif", "--sarif-root-uri", "--select", "TST003", "sub")
    assert json.loads(with_uri.stdout)["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == \
        project.as_uri() + "/"


@pytest.mark.parametrize("option", ["-o", "--sarif-output", "--write-baseline"])
def test_report_into_a_missing_directory(project, option):
    write(project, {"a.py": "eval('1')\n"})
    res = cnlint("check", "--no-cache", "--select", "TST003", option, "new/dir/report", "a.py")
    assert res.exit_code in (0, 1), res.output
    assert (project / "new/dir/report").read_text(encoding="utf-8").strip()
    write(project, {"file": "x"})  # a parent that is a file: a clean error
    res = cnlint("check", "--no-cache", "--select", "TST003", option, "file/report", "a.py")
    assert res.exit_code == 2 and "cannot write file/report" in res.stderr, res.output


@pytest.mark.parametrize("option", ["-o", "--sarif-output"])
def test_a_failed_write_leaves_the_old_report(project, monkeypatch, option):
    write(project, {"a.py": "eval('1')\n", "report": "old report\n"})

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cnlint.reporters.output.os.fsync", full)
    res = cnlint("check", "--no-cache", "--select", "TST003", option, "report", "a.py")
    assert res.exit_code == 2 and "No space left on device" in res.stderr, res.output
    assert (project / "report").read_text() == "old report\n"
    assert sorted(os.listdir(project)) == ["a.py", "pyproject.toml", "report", "testrules.py"]  # no temp file


def test_a_report_replaces_a_symlink_and_writes_to_dev_stdout(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "victim"
    outside.write_text("keep\n")
    write(project, {"a.py": "eval('1')\n"})
    os.symlink(outside, project / "report.sarif")
    res = cnlint("check", "--no-cache", "--select", "TST003", "--sarif-output", "report.sarif", "a.py")
    assert res.exit_code == 1, res.output
    assert outside.read_text() == "keep\n"  # a committed link cannot redirect the report
    assert not os.path.islink(project / "report.sarif") and json.loads((project / "report.sarif").read_text())
    assert output.write_report("/dev/stdout", "") is None


@pytest.mark.parametrize("content", ["[]", '{"a": 1}', '{"runs": [1]}', '{"runs": [{"tool": 3}]}', "7"])
def test_merge_sarif_of_something_else_is_a_clean_error(project, content):
    write(project, {"x.sarif": content})
    res = cnlint("merge-sarif", "x.sarif")
    assert res.exit_code == 2 and "is not a SARIF log" in res.stderr, res.output


def test_merged_sarif_is_valid_utf8(project):
    write(project, {"s.sarif": '{"runs": [{"tool": {"driver": {"name": "cnlint"}}, "invocations": [{'
                               '"toolExecutionNotifications": [{"message": {"text": "bad\\udcffname"}}]}]}]}'})
    res = cnlint("merge-sarif", "s.sarif")
    assert res.exit_code == 0 and "bad\\\\xffname" in res.stdout_bytes.decode("utf-8"), res.output


def test_rules_listing_escapes_custom_rules(project):
    write(project, {"testrules.py": '''
        from cnlint import PythonRule

        class Odd(PythonRule):
            id = "TST010"; name = "odd-name"; summary = "summary\\x1b[2J\\n::warning::x ##[error]x"
        '''})
    res = cnlint("rules")
    assert res.exit_code == 0, res.output
    assert _command_lines(res.stdout) == [] and "\x1b" not in res.stdout
    assert "summary\\x1b[2J\\n::warning::x ##\\x5berror]x" in res.stdout


def test_notices_and_diff_warnings_are_escaped(project):
    name = "n\x1b[2Jame.py"
    try:
        write(project, {name: b"\xff\xfe\n"})
    except OSError:
        pytest.skip("the file system refuses the name")
    res = cnlint("check", "--no-cache")
    assert "\x1b" not in res.stderr and "n\\x1b[2Jame.py" in res.stderr, res.output


def test_diff_is_verbatim_but_inert_in_github_actions(project, monkeypatch):
    write(project, {"main.go": 'package main\n\nimport "fmt"\n\nvar s = `\n::warning::x\n`\n\n'
                               'func main() { fmt.Println(s) }\n'})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = cnlint("check", "--no-cache", "--diff", "--select", "TST001", "main.go").stdout
    first, last = out.splitlines()[0], out.splitlines()[-1]
    token = first.removeprefix("::stop-commands::")
    assert len(token) == 32 and last == f"::{token}::", out
    assert " ::warning::x" in out  # the diff itself is unchanged
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert cnlint("check", "--no-cache", "--diff", "--select", "TST001", "main.go").stdout.startswith("--- ")

