"""--fix as safe as an editor's save: symlinks, concurrent edits, permissions,
I/O errors, invalid edits, shebang scripts, and --diff's exit code."""

import errno
import os
import stat

import pytest
from cnlint import fixes
from cnlint.config import load_config
from cnlint.engine import Engine
from cnlint.fixes import apply_edits, edit_problem, fix_file
from cnlint.model import Edit, Fix, Span
from cnlint.runner import load
from conftest import cnlint, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BAD_RULES = '''
from cnlint import Edit, PythonRule, Span, TreeSitterRule
import libcst as cst


def edit(a, b, text):
    return Edit(Span(1, 1, 1, 1, a, b), text)


class Overlap(TreeSitterRule):
    id = "BAD001"; name = "overlap"; summary = "x"; languages = ("go",); fixable = "safe"
    def visit_package_clause(self, node):
        self.report(node, "overlap", fix=self.fix("o", edit(0, 7, "A"), edit(3, 10, "B")))


class Outside(TreeSitterRule):
    id = "BAD002"; name = "outside"; summary = "x"; languages = ("go",); fixable = "safe"
    def visit_package_clause(self, node):
        self.report(node, "outside", fix=self.fix("o", edit(0, 10 ** 6, "")))


class Negative(TreeSitterRule):
    id = "BAD003"; name = "negative"; summary = "x"; languages = ("go",); fixable = "safe"
    def visit_package_clause(self, node):
        self.report(node, "negative", fix=self.fix("o", edit(-1, 2, "x")))


class SplitsChar(TreeSitterRule):
    id = "BAD004"; name = "splits-char"; summary = "x"; languages = ("go",); fixable = "safe"
    def visit_comment(self, node):
        at = self.ctx.source.data.find("é".encode())
        if at >= 0:
            self.report(node, "split", fix=self.fix("o", edit(at + 1, at + 1, "x")))


class Crash(TreeSitterRule):
    id = "BAD005"; name = "crash"; summary = "x"; languages = ("go",)
    def visit_package_clause(self, node):
        raise RuntimeError("boom")


class Random(TreeSitterRule):
    # reports the edits a test puts in EDITS, on the first run only
    id = "RND001"; name = "random"; summary = "x"; languages = ("go",); fixable = "safe"
    EDITS = []
    fired = False
    def visit_package_clause(self, node):
        if not Random.fired:
            Random.fired = True
            self.report(node, "random", fix=self.fix("r", *Random.EDITS))


class LiteralEval(PythonRule):
    id = "PYF001"; name = "literal-eval"; summary = "x"; fixable = "safe"
    def visit_Call(self, node):
        if getattr(node.func, "value", "") == "eval":
            self.report(node, "eval", replacement=node.with_changes(func=cst.Name("literal_eval")))
'''

GO = 'package main\n\nimport "fmt"\n\n// café\nfunc main() { fmt.Println(1) }\n'
FIXED = GO.replace("fmt.Println", "log.Println")


@pytest.fixture
def proj(project):
    write(project, {"badrules.py": BAD_RULES})
    (project / "pyproject.toml").write_text('[tool.cnlint]\nrule-paths = ["testrules.py", "badrules.py"]\n'
                                            'extend-exclude = ["*rules.py"]\ncache = false\n')
    return project


def fix(*args):
    return cnlint("check", "--fix", "-j", "1", "--select", "TST001", *args)


def test_symlink_is_written_through(proj):
    write(proj, {"src/real.go": GO})
    os.symlink("src/real.go", proj / "link.go")
    r = fix("link.go")
    assert r.exit_code == 0, r.output
    assert os.path.islink(proj / "link.go") and os.readlink(proj / "link.go") == "src/real.go"
    assert (proj / "src" / "real.go").read_text() == FIXED
    assert not [p for p in os.listdir(proj) if p.startswith(".cnlint-fix-")]


def test_symlink_out_of_the_project_is_refused(proj, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "x.go"
    outside.write_text(GO)
    os.symlink(outside, proj / "out.go")
    write(proj, {"in.go": GO})
    fix()
    fix("out.go")
    assert outside.read_text() == GO and os.path.islink(proj / "out.go")
    assert (proj / "in.go").read_text() == FIXED
    with pytest.raises(fixes.Refused, match="outside the project"):  # whatever discovery lets through
        fixes.write_fixed(str(proj / "out.go"), GO.encode(), FIXED.encode(), str(proj))
    assert outside.read_text() == GO


def test_file_changed_since_it_was_read_is_left_alone(proj, monkeypatch):
    """Someone saves the file while --fix works on it: their text wins."""
    write(proj, {"a.go": GO, "b.go": GO})
    saved = GO.replace("Println(1)", "Println(2)")
    real = fixes.fix_file

    def fix_then_save(engine, path, *a, **k):
        out = real(engine, path, *a, **k)
        if path == "a.go":
            (proj / "a.go").write_text(saved)
        return out

    monkeypatch.setattr(fixes, "fix_file", fix_then_save)
    r = fix()
    assert (proj / "a.go").read_text() == saved
    assert (proj / "b.go").read_text() == FIXED
    assert "a.go: fixes not written: it changed since it was read" in r.stderr
    assert r.exit_code == 1  # the saved text still has a finding, reported as it is now
    assert "a.go:6" in r.stdout


def test_read_only_file_is_refused_and_mode_kept(proj):
    write(proj, {"ro.go": GO, "rw.go": GO})
    os.chmod(proj / "ro.go", 0o444)
    os.chmod(proj / "rw.go", 0o640)
    r = fix()
    assert (proj / "ro.go").read_text() == GO and stat.S_IMODE(os.stat(proj / "ro.go").st_mode) == 0o444
    assert (proj / "rw.go").read_text() == FIXED and stat.S_IMODE(os.stat(proj / "rw.go").st_mode) == 0o640
    assert r.exit_code == 2 and "ro.go: fixes not written: it is read-only" in r.stderr


@pytest.mark.parametrize("code", [errno.EACCES, errno.ENOSPC])
def test_write_errors_finish_the_other_files_and_exit_2(proj, monkeypatch, code):
    """A directory we may not write in (0555) or a full disk: the other files
    are still fixed, the summary names what was and was not written."""
    write(proj, {"a.go": GO, "locked/c.go": GO, "z.go": GO})
    real = fixes.tempfile.mkstemp

    def mkstemp(*a, dir, **k):
        if dir.endswith("locked"):
            raise OSError(code, os.strerror(code))
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(fixes.tempfile, "mkstemp", mkstemp)
    r = fix()
    assert (proj / "locked" / "c.go").read_text() == GO
    assert (proj / "a.go").read_text() == FIXED and (proj / "z.go").read_text() == FIXED
    assert r.exit_code == 2
    assert f"locked/c.go: fixes not written: {os.strerror(code)}" in r.stderr
    assert "Fixes written to 2 files: a.go, z.go; not written to 1: locked/c.go." in r.stderr
    assert "Traceback" not in r.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a 0555 directory")
def test_unwritable_directory_for_real(proj):
    write(proj, {"a.go": GO, "locked/c.go": GO})
    os.chmod(proj / "locked", 0o555)
    try:
        r = fix()
    finally:
        os.chmod(proj / "locked", 0o755)
    assert r.exit_code == 2 and (proj / "a.go").read_text() == FIXED and (proj / "locked" / "c.go").read_text() == GO


def test_invalid_edits_are_rejected_naming_the_rule(proj):
    write(proj, {"main.go": GO})
    r = cnlint("check", "--fix", "-j", "1", "--select", "TST001,BAD001,BAD002,BAD003,BAD004")
    assert (proj / "main.go").read_text() == FIXED  # the good fix landed, nothing else
    for rule, why in [("BAD001", "overlap"), ("BAD002", "outside the file"), ("BAD003", "outside the file"),
                      ("BAD004", "splits a UTF-8 character")]:
        lines = [x for x in r.stderr.splitlines() if f"fix for {rule} " in x]
        assert len(lines) == 1 and "rejected" in lines[0] and why in lines[0], r.stderr


def test_edit_problem_rules():
    def e(a, b, t="x"):
        return Edit(Span(1, 1, 1, 1, a, b), t)

    data = "aé b".encode()
    assert edit_problem(Fix("f", (e(0, 0), e(0, 1), e(1, 3), e(3, 3))), data) is None  # adjacent is fine
    assert "overlap" in edit_problem(Fix("f", (e(2, 2), e(2, 2))), b"abc")  # order of two inserts is unknown
    assert "overlap" in edit_problem(Fix("f", (e(0, 2), e(1, 3))), b"abc")
    assert "splits" in edit_problem(Fix("f", (e(0, 2),)), data)
    assert "outside" in edit_problem(Fix("f", (e(4, 9),)), b"abc")
    assert "not valid Unicode" in edit_problem(Fix("f", (e(0, 1, "\ud800"),)), b"abc")


@pytest.mark.parametrize("mode", ["--fix", "--diff"])
def test_shebang_script_is_fixed(proj, mode):
    write(proj, {"tool": "#!/usr/bin/env python3\nx = eval('1')\n"})
    r = cnlint("check", mode, "-j", "1", "--select", "PYF001", "tool")
    assert "Traceback" not in r.output and "grammar" not in r.output
    if mode == "--fix":
        assert r.exit_code == 0, r.output
        assert (proj / "tool").read_text() == "#!/usr/bin/env python3\nx = literal_eval('1')\n"
    else:
        assert r.exit_code == 1 and "+x = literal_eval('1')" in r.stdout


def test_diff_exits_2_when_a_rule_crashed(proj):
    write(proj, {"main.go": GO})
    r = cnlint("check", "--diff", "-j", "1", "--select", "TST001,BAD005")
    assert r.exit_code == 2
    assert "+func main() { log.Println(1) }" in r.stdout and "BAD005" in r.stderr
    assert (proj / "main.go").read_text() == GO


@pytest.fixture(scope="module")
def random_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("random")
    write(root, {"badrules.py": BAD_RULES, "cnlint.toml": 'rule-paths = ["badrules.py"]\n'})
    cfg = load_config(str(root / "cnlint.toml"), str(root))
    registry, selection = load(cfg, select=["RND001"])
    return Engine(cfg, registry, selection, cwd=str(root)), registry.rules["RND001"].impls["go"]


SOURCE = 'package main\n\n// é ü\nfunc main() { x := []int{1, 2}; _ = x }\n'.encode()
edits = st.lists(st.builds(lambda a, n, t: Edit(Span(1, 1, 1, 1, a, a + n), t),
                           st.integers(-3, len(SOURCE) + 3), st.integers(0, 12),
                           st.sampled_from(["", "x", "{", "}", "é", "()", "\n", "// c\n"])),
                 min_size=1, max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits)
def test_a_fix_is_applied_whole_or_not_at_all_and_never_breaks_syntax(random_engine, edit_list):
    engine, rule = random_engine
    rule.EDITS, rule.fired = edit_list, False
    out = fix_file(engine, "main.go", "go", unsafe=False, original=SOURCE)
    problem = edit_problem(Fix("r", tuple(edit_list)), SOURCE)
    if problem:
        assert out.fixed == SOURCE and any("RND001" in n.message and "rejected" in n.message for n in out.notices)
    else:
        assert out.fixed in (SOURCE, apply_edits(SOURCE, edit_list))
    out.fixed.decode("utf-8")  # never a torn character
    assert fixes._syntax_errors(engine, "main.go", "go", out.fixed) == 0
