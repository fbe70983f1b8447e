"""Valid code the grammars do not know is never a syntax error, and what a
parser could not read is said (a not-analysed notice), never skipped silently."""

import json

from conftest import cnlint, write

from cnlint.backends import parse_gaps

GENERIC_METHOD = """package main

import "fmt"

type Rand struct{}

func (r *Rand) N[Int ~int](n Int) Int {
	fmt.Println(n)
	return new(Int(n))
}

func b() { fmt.Println(1) }
"""


def run(*args):
    doc = json.loads(cnlint("check", "--format", "json", *args).stdout)
    found = {(f["path"], f["rule_id"], f["start"]["line"]) for f in doc["findings"]}
    return found, [(n["kind"], n["path"], n["message"]) for n in doc["notices"]]


def test_newer_go_syntax_is_not_an_error_and_is_analysed(project):
    write(project, {"rand.go": GENERIC_METHOD})
    found, notices = run()
    assert found == {("rand.go", "TST001", 8), ("rand.go", "TST001", 12)}  # the rules read all of it
    assert notices == []


def test_unrepaired_go_gap_is_a_notice_naming_the_lines(project, monkeypatch):
    monkeypatch.setattr(parse_gaps, "go_rewrite", lambda *a: None)
    write(project, {"rand.go": GENERIC_METHOD})
    found, notices = run()
    assert ("rand.go", "CN001", 7) not in found and ("rand.go", "TST001", 12) in found
    [(kind, path, message)] = notices
    assert (kind, path) == ("not-analysed", "rand.go")
    assert message.startswith("line") and "not analysed: valid Go" in message and "tree-sitter-golang" in message


def test_real_go_error_is_still_cn001_and_placed_by_the_newer_grammar(project):
    write(project, {"bad.go": GENERIC_METHOD + "\nfunc c() {\n\tx :=\n}\n"})
    found, notices = run()
    assert ("bad.go", "CN001", 15) in found  # `x :=`, not the generic method on line 7
    assert ("bad.go", "TST001", 12) in found
    assert notices == []  # the finding says it


def test_without_cn001_a_file_that_does_not_parse_is_a_notice(project):
    write(project, {
        "broken.go": 'package main\n\nimport "fmt"\n\nfunc a( {\n}\n\nfunc b() { fmt.Println(1) }\n',
        "broken.py": "eval('1')\ndef f(:\n",
    })
    found, notices = run("--select", "TST001,TST003")
    assert found == {("broken.go", "TST001", 8)}
    assert ("not-analysed", "broken.go",
            "does not parse (line 5: syntax error: unexpected `func a( {`); line 5 not analysed, "
            "the rules checked the rest of the file") in notices
    assert ("skipped", "broken.py", "does not parse (line 2: syntax error: invalid syntax); not linted") in notices


def test_typescript_gaps_are_read_whole(project):
    write(project, {"cache.ts": (
        "const p = new Promise<boolean>((resolve: (boolean) => void) => {\n"
        "  console.log(resolve)\n"
        "})\n"
        "type M<U extends string> = `use \\`${U}\\``\n"
        "console.log(p)\n"
    )})
    found, notices = run()
    assert found == {("cache.ts", "TST002", 2), ("cache.ts", "TST002", 5)}
    assert notices == []


def test_typescript_rewrites_keep_real_errors():
    import tree_sitter as ts
    import tree_sitter_typescript as tsts

    parser = ts.Parser(ts.Language(tsts.language_typescript()))
    broken = b"const f = (boolean) => void;\nconst x = ;\n"
    problems = parse_gaps.check("typescript", broken, parser.parse(broken))
    assert problems.repaired is None and problems.error is not None


def test_line_ranges_merge_adjacent_regions():
    starts = [0, 10, 20, 30, 40]
    assert parse_gaps.line_ranges(starts, [(0, 5), (12, 25), (41, 41)]) == [(1, 3), (5, 5)]
    assert parse_gaps.describe_lines([(1, 3), (5, 5)]) == "lines 1-3, 5"
    assert parse_gaps.describe_lines([(5, 5)]) == "line 5"


def test_not_analysed_notice_in_every_format(project, monkeypatch):
    monkeypatch.setattr(parse_gaps, "go_rewrite", lambda *a: None)
    write(project, {"rand.go": GENERIC_METHOD})
    text = cnlint("check", "--no-cache")
    assert text.exit_code == 1  # TST001's findings; the notice alone changes nothing
    assert "cnlint: note: rand.go: line" in text.stderr and "[1 file partly analysed]" in text.stdout
    gh = cnlint("check", "--no-cache", "--format", "github").stdout
    assert "::notice file=rand.go,title=cnlint%3A lines not analysed::line" in gh
    sarif = json.loads(cnlint("check", "--no-cache", "--format", "sarif").stdout)["runs"][0]
    [note] = sarif["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "note" and note["descriptor"]["id"] == "cnlint/lines-not-analysed"
    assert sarif["invocations"][0]["executionSuccessful"] is True
