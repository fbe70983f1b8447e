"""The engine end to end: rules of each backend, suppressions, bad input, crashes."""

import json
import os

from conftest import cnlint, write

GO = '''
package main

import "fmt"

func main() {
	fmt.Println("héllo 😀") // a comment
	fmt.Printf("no")
}
'''


def findings(result):
    return json.loads(result.stdout)["findings"]


def test_each_backend_reports_with_exact_positions(project):
    write(project, {
        "a.go": GO,
        "web/b.ts": "const x = 1;\nconsole.log(x);\n",
        "web/c.jsx": "export const A = () => <div>{console.error('é')}</div>;\n",
        "d.py": "x = eval('1')\n",
    })
    r = cnlint("check", "--format", "json")
    assert r.exit_code == 1, r.output
    got = {(f["path"], f["rule_id"], f["start"]["line"], f["start"]["column"]) for f in findings(r)}
    assert got == {
        ("a.go", "TST001", 6, 2),
        ("web/b.ts", "TST002", 2, 1),
        ("web/c.jsx", "TST002", 1, 30),
        ("d.py", "TST003", 1, 5),
    }


def test_text_output_has_location_caret_and_summary(project):
    write(project, {"a.go": GO})
    r = cnlint("check", "a.go")
    lines = r.stdout.splitlines()
    assert lines[0] == "a.go:6:2: warning[TST001] fmt.Println call [*]"
    assert lines[1] == '    \tfmt.Println("héllo 😀") // a comment'
    # the caret keeps the tab so it lines up under the span
    assert lines[2] == "    \t" + "^" * len('fmt.Println("héllo 😀")') + "^"  # 😀 is 2 columns wide
    assert lines[-1].startswith("Found 1 finding in 1 file")
    assert r.exit_code == 1


def test_columns_in_code_points_and_utf16(project):
    write(project, {"u.py": "s = '😀é'; eval('x')\n"})
    f = findings(cnlint("check", "--format", "json"))[0]
    # 's = '😀é'; ' is 10 code points, 11 UTF-16 units
    assert f["start"]["column"] == 11 and f["start"]["column_utf16"] == 12
    assert f["end"]["column"] == 15 and f["end"]["column_utf16"] == 16


def test_clean_run_exits_zero(project):
    write(project, {"ok.go": "package ok\n\nfunc F() int { return 1 }\n"})
    r = cnlint("check")
    assert r.exit_code == 0
    assert "All checks passed!" in r.stdout


def test_exit_zero_and_quiet(project):
    write(project, {"a.go": GO})
    r = cnlint("check", "--exit-zero", "-q")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0] == "a.go:6:2: warning[TST001] fmt.Println call [*]"
    assert "héllo" not in r.stdout


def test_rule_options_from_config(project):
    write(project, {"d.py": "a = eval('1')\nb = exec('2')\n"})
    (project / "pyproject.toml").write_text(
        '[tool.cnlint]\nrule-paths = ["testrules.py"]\nextend-exclude = ["testrules.py"]\n'
        '[tool.cnlint.options.TST003]\nnames = ["exec"]\n')
    got = [(f["start"]["line"], f["message"]) for f in findings(cnlint("check", "--format", "json"))]
    assert got == [(2, "exec call")]


def test_suppressions(project):
    write(project, {
        "a.go": '''
            package main

            import "fmt"

            func main() {
            	fmt.Println("x") // cnlint: ignore[TST001] -- demo output
            	fmt.Println("y") // cnlint: ignore[TST002]
            	fmt.Println("z") /* cnlint: ignore */
            	s := "// cnlint: ignore[TST001]"; fmt.Println(s)
            }
            ''',
        "b.py": "# cnlint: ignore-file[TST003]\neval('1')\neval('2')\n",
        "c.ts": "console.log(1); // cnlint: ignore[TST001]\n",
    })
    r = cnlint("check", "--format", "json", "--include-suppressed")
    doc = json.loads(r.stdout)
    got = sorted((f["path"], f["start"]["line"], f["rule_id"]) for f in doc["findings"])
    assert got == [
        ("a.go", 7, "CN002"),  # TST002 never reports on Go: suppression unused
        ("a.go", 7, "TST001"),
        ("a.go", 9, "TST001"),  # a "suppression" inside a string does not count
        ("c.ts", 1, "CN002"),  # TST001 did not fire here (it's a Go rule): unused
        ("c.ts", 1, "TST002"),
    ]
    reasons = sorted((f["path"], f["start"]["line"], f["suppressed"]["reason"]) for f in doc["suppressed"])
    assert reasons == [("a.go", 6, "demo output"), ("a.go", 8, ""), ("b.py", 2, ""), ("b.py", 3, "")]


def test_syntax_errors_do_not_stop_rules(project):
    write(project, {
        "broken.go": 'package main\n\nimport "fmt"\n\nfunc a( {\n}\n\nfunc b() { fmt.Println(1) }\n',
        "broken.py": "eval('1')\ndef f(:\n",
        "broken.ts": "const = ;\nconsole.log(1);\n",
    })
    got = {(f["path"], f["rule_id"], f["start"]["line"]) for f in findings(cnlint("check", "--format", "json"))}
    assert ("broken.go", "CN001", 5) in got
    assert ("broken.go", "TST001", 8) in got  # tree-sitter recovered
    assert ("broken.py", "CN001", 2) in got
    assert ("broken.ts", "CN001", 1) in got
    assert ("broken.ts", "TST002", 2) in got


def test_bad_files_are_skipped_with_notices(project):
    write(project, {
        "bin.go": b"package x\x00\x01\x02",
        "latin1.py": "x = 'caf\xe9'\n".encode("latin-1"),
        "big.ts": "// " + "x" * 200 + "\n",
        "ok.go": GO,
    })
    (project / "pyproject.toml").write_text(
        '[tool.cnlint]\nrule-paths = ["testrules.py"]\nextend-exclude = ["testrules.py"]\nmax-file-size = 150\n')
    r = cnlint("check", "--format", "json")
    doc = json.loads(r.stdout)
    notices = {n["path"]: n["message"] for n in doc["notices"]}
    assert notices["bin.go"] == "binary file"
    assert notices["latin1.py"].startswith("not valid UTF-8 (line 1")
    assert "max-file-size" in notices["big.ts"]
    assert [f["path"] for f in doc["findings"]] == ["ok.go"]  # the run went on
    assert r.exit_code == 1  # skipped files are not errors
    assert "cnlint: warning: bin.go: binary file" in r.stderr


def test_crashing_rule_is_reported_and_run_continues(project):
    write(project, {
        "crash.py": '''
            from cnlint import TreeSitterRule
            class Boom(TreeSitterRule):
                id = "TST099"; name = "boom"; summary = "crashes"; languages = ("go",)
                def visit_call_expression(self, node):
                    raise RuntimeError("kaboom")
            ''',
        "a.go": GO,
    })
    (project / "pyproject.toml").write_text(
        '[tool.cnlint]\nrule-paths = ["testrules.py", "crash.py"]\nextend-exclude = ["*rules.py", "crash.py"]\n')
    r = cnlint("check", "--format", "json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 2
    assert [f["rule_id"] for f in doc["findings"]] == ["TST001"]  # the other rule still ran
    (crash,) = doc["notices"]
    assert crash["kind"] == "internal-error" and crash["rule_id"] == "TST099" and crash["path"] == "a.go"
    assert "RuntimeError: kaboom" in crash["message"] and "crash.py:5" in crash["message"]


def test_rule_file_that_fails_to_import(project):
    write(project, {"bad_rules.py": "import does_not_exist\n", "a.go": GO})
    (project / "pyproject.toml").write_text(
        '[tool.cnlint]\nrule-paths = ["testrules.py", "bad_rules.py"]\nextend-exclude = ["*rules.py"]\n')
    r = cnlint("check")
    assert r.exit_code == 2
    assert "bad_rules.py: custom rule file failed to import: ModuleNotFoundError" in r.stderr
    assert "a.go:6:2: warning[TST001]" in r.stdout


def test_parallel_output_is_identical_to_serial(project):
    files = {f"pkg{i % 7}/f{i}.go": GO for i in range(60)}
    files.update({f"web/m{i}.ts": "console.log(1)\n" for i in range(20)})
    write(project, files)
    serial = cnlint("check", "--format", "json", "--jobs", "1").stdout
    parallel = cnlint("check", "--format", "json", "--jobs", "2").stdout
    assert serial == parallel
    assert len(json.loads(serial)["findings"]) == 80


def test_prefilter_skips_parsing_files_no_rule_can_match(project):
    write(project, {"a.go": "package a\n\nfunc F() {}\n", "b.go": GO})
    doc = json.loads(cnlint("check", "--format", "json", "--select", "TST001").stdout)
    assert doc["summary"]["files"] == 2 and doc["summary"]["parsed"] == 1
