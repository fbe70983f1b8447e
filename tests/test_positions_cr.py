"""Positions in files whose lines end with a lone CR (old Mac style), and
offsets a rule gets wrong: no finding on the wrong line, never line 0."""

import json

import pytest

from cnlint.source import SourceFile

from conftest import cnlint, write


def _findings(*args):
    res = cnlint("check", "--format", "json", "--no-cache", *args)
    return res, json.loads(res.stdout)["findings"]


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"])
def test_python_lines_with_every_line_end(project, eol):
    write(project, {"a.py": eol.join(["import os", "x = 1", "y = eval('1')", "z = eval('2')", ""]).encode()})
    res, found = _findings("a.py")
    assert [(f["rule_id"], f["start"]["line"], f["start"]["column"]) for f in found] == \
        [("TST003", 3, 5), ("TST003", 4, 5)], res.output


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"])
def test_suppression_comments_on_cr_files(project, eol):
    src = eol.join(["y = eval('1')  # cnlint: ignore[TST003]", "z = eval('2')", "# cnlint: ignore[TST003]",
                    "w = eval('3')", ""])
    write(project, {"a.py": src.encode(), "a.ts": eol.join(["let a = 1;", "console.log(a);  // cnlint: ignore[TST002]",
                                                             "console.log(a);", ""]).encode()})
    res, found = _findings("a.py", "a.ts")
    assert [(f["path"], f["rule_id"], f["start"]["line"]) for f in found] == [
        ("a.py", "TST003", 2), ("a.py", "CN002", 3), ("a.py", "TST003", 4), ("a.ts", "TST002", 3)], res.output


def test_typescript_and_go_lines_on_cr_files(project):
    write(project, {"a.ts": b"let a = 1;\rconst b = 2;\rconsole.log(a);\r"})
    _, found = _findings("a.ts")
    assert [(f["start"]["line"], f["start"]["column"], f["end"]["line"]) for f in found] == [(3, 1, 3)]


def test_line_starts_fast_path_and_lone_cr():
    assert SourceFile("x", b"a\nb\r\nc\n").line_starts == [0, 2, 5, 7]
    assert SourceFile("x", b"a\rb\r\nc\nd").line_starts == [0, 2, 5, 7]
    src = SourceFile("x", b"a\rbc\r")
    assert src.line_text(1) == "bc"
    s = src.span(3, 4)
    assert (s.start_line, s.start_column, s.end_line, s.end_column) == (2, 2, 2, 3)


def test_bad_offsets_never_give_line_or_column_zero():
    src = SourceFile("x", b"ab\ncd\n")
    s = src.span(-5, -1)
    assert (s.start_line, s.start_column, s.end_line, s.end_column) == (1, 1, 1, 1)
    assert (s.start_column_utf16, s.end_column_utf16) == (1, 1)
    assert (s.start_byte, s.end_byte) == (-5, -1)  # kept as given, for fix validation to reject
    s = src.span(4, 1000)
    assert (s.start_line, s.start_column, s.end_line, s.end_column) == (2, 2, 3, 1)


def test_rule_with_negative_offsets_reports_line_one(project):
    write(project, {"bad.py": '''
        from cnlint import PythonRule

        class Neg(PythonRule):
            id = "TST009"; name = "negative"; summary = "negative offsets"
            def visit_Module(self, node):
                self.report((-10, -3), "bad offsets")
        ''', "pyproject.toml": '[tool.cnlint]\nrule-paths = ["bad.py"]\nextend-exclude = ["bad.py"]\n',
        "a.py": "x = 1\n"})
    res = cnlint("check", "--no-cache", "a.py")
    assert "a.py:1:1: warning[TST009] bad offsets" in res.stdout, res.output
    assert ":0:" not in res.stdout


def test_language_server_edits_on_cr_documents():
    from cnlint.server import _whole_document, suppression_edit

    edit = suppression_edit("a = 1\rb = eval(1)\rc", 1, "TST003", "python")
    assert (edit.range.start.line, edit.range.start.character, edit.new_text) == (1, 11, "  # cnlint: ignore[TST003]")
    end = _whole_document("a\rbc\r\nd").end
    assert (end.line, end.character) == (2, 1)


def test_columns_on_a_long_line_continue_from_the_last_point_correctly():
    """On lines longer than 4 KB the column of a point is computed from the last
    point (minified code); in any order of points, the columns must equal a
    decode from the line's start, in code points and in UTF-16 units."""
    import random

    line = "".join(random.Random(7).choice(["a", " ", "é", "😀", "\t", "中"]) for _ in range(6000))
    data = ("first line\n" + line + "\nlast\n").encode("utf-8")
    src = SourceFile("x", data)
    start = data.index(b"\n") + 1
    boundaries = [i for i in range(start, start + len(line.encode("utf-8"))) if data[i] & 0xC0 != 0x80]
    picks = random.Random(8).sample(boundaries, 300)
    for byte in sorted(picks) + picks:  # increasing (the fast path), then any order
        prefix = data[start:byte].decode("utf-8")
        span = src.span(byte, byte)
        assert (span.start_line, span.start_column) == (2, len(prefix) + 1)
        assert span.start_column_utf16 == len(prefix.encode("utf-16-le")) // 2 + 1
