"""SARIF 2.1.0 output (``--format sarif``, ``--sarif-output``) and ``--format github``.

Every SARIF log a test produces is validated against the official OASIS
schema (tests/data/sarif-schema-2.1.0.json, draft-04, Errata 01) and every
artifact URI against RFC 3986. The rules are custom rules written into each
temporary project, so the tests do not depend on which built-in rules exist.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from urllib.parse import unquote

import jsonschema
import pytest
from click.testing import CliRunner

from cnlint.cli import main
from cnlint.reporters import github, sarif

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "data", "sarif-schema-2.1.0.json")
with open(SCHEMA_PATH, encoding="utf-8") as _f:
    SCHEMA = json.load(_f)
jsonschema.Draft4Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)

RULES = r'''
from cnlint import TreeSitterRule, PythonRule


class NoPrintln(TreeSitterRule):
    id = "ACME001"; name = "no-fmt-println"; summary = "Use the logger"; languages = ("go",)
    tags = ("maintainability", "maintainability")
    query = """(call_expression function: (selector_expression operand: (identifier) @pkg
               field: (field_identifier) @fn) (#eq? @pkg "fmt") (#eq? @fn "Println")) @call"""

    def on_match(self, captures):
        call = captures["call"][0]
        self.report(call, "use the logger", related=[(captures["pkg"][0], "package [fmt] here")],
                    fix=self.fix("use log", self.edit(call, "log.Print()"), applicability="safe"))


class NoEvalTs(TreeSitterRule):
    id = "ACME002"; name = "no-eval-ts"; summary = "No eval in TypeScript"
    languages = ("typescript", "tsx", "javascript")
    query = """(call_expression function: (identifier) @fn (#eq? @fn "eval")) @call"""

    def on_match(self, captures):
        self.report(captures["call"][0], "eval is dangerous",
                    fix=self.fix("call JSON.parse", self.edit(captures["fn"][0], "JSON.parse"),
                                 applicability="unsafe"))


class PyCalls(PythonRule):
    id = "ACME003"; name = "no-eval"; summary = "No eval in Python"; severity = "note"

    def visit_Call(self, node):
        name = getattr(node.func, "value", None)
        if name == "eval":
            self.report(node, "eval is dangerous",
                        fix=self.fix("use ast.literal_eval", self.edit(node.func, "ast.literal_eval"),
                                     applicability="suggestion"))
        elif name == "boom":
            raise RuntimeError("kaboom")
        elif name == "say":
            self.report(node, node.args[0].value.evaluated_value)


class Password(PythonRule):
    id = "ACME004"; name = "hardcoded-password"; summary = "Hard-coded password"
    severity = "error"; precision = "medium"; security_severity = 7.5
    tags = ("security", "external/cwe/cwe-798")
    help = """\
## What it does
Finds string literals assigned to a variable named
`password`.

## Why is this bad?
Anyone who can read the code can log in.

## Example
```python
password = "hunter2"
```

## Use instead
```python
password = os.environ["PASSWORD"]
```
"""

    @classmethod
    def docs_url(cls):
        return "https://example.com/rules/ACME004"

    def visit_Assign(self, node):
        target = node.targets[0].target
        if getattr(target, "value", None) == "password":
            self.report(node, "hard-coded password")
'''

GO_HEADER = 'package main\n\nimport "fmt"\n\n'


# ---------------------------------------------------------------- helpers

def write(root, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(p, mode, **({} if isinstance(content, bytes) else {"encoding": "utf-8", "newline": ""})) as f:
            f.write(content)


def make_project(root, files=None, rule_paths=("myrules.py",)) -> None:
    paths = ", ".join(json.dumps(p) for p in rule_paths)
    write(root, {"myrules.py": RULES, "pyproject.toml": f"[tool.cnlint]\nrule-paths = [{paths}]\n",
                 **(files or {})})


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory (cwd) with the custom rules configured."""
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


_URI_REF = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*$")


def assert_uri(uri: str, relative: bool = True) -> None:
    assert _URI_REF.match(uri), f"not a valid RFC 3986 URI reference: {uri!r}"
    if relative:
        first = uri.split("/", 1)[0]
        assert ":" not in first, f"relative URI whose first segment reads as a scheme: {uri!r}"
        assert not uri.startswith("/") and ".." not in uri.split("/")


def validate(doc: dict) -> dict:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    run = doc["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"].get("uri")
    if base is not None:  # only with --sarif-root-uri
        assert base.startswith("file:///") and base.endswith("/")
        assert_uri(base[len("file://"):], relative=False)

    def artifact_locations(obj):
        if isinstance(obj, dict):
            if "artifactLocation" in obj:
                yield obj["artifactLocation"]
            for v in obj.values():
                yield from artifact_locations(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from artifact_locations(v)

    for al in artifact_locations(run):
        if al.get("uriBaseId") == "%SRCROOT%":
            assert_uri(al["uri"])
        else:
            assert al["uri"].startswith("file:///")
            assert_uri(al["uri"][len("file://"):], relative=False)
    rules = run["tool"]["driver"]["rules"]
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        for loc in res.get("relatedLocations", []):
            assert f"]({loc['id']})" in res["message"]["text"]
    return doc


def cli(*args, input=None):
    return CliRunner().invoke(main, ["check", *args], input=input, catch_exceptions=False)


def sarif_run(*args, exit_code=None) -> dict:
    """``cnlint check --format sarif ARGS``: the validated log's single run."""
    res = cli("--format", "sarif", *args)
    if exit_code is not None:
        assert res.exit_code == exit_code, res.output
    doc = validate(json.loads(res.stdout))
    assert doc["version"] == "2.1.0"
    assert doc["$schema"] == sarif.SCHEMA_URI
    assert len(doc["runs"]) == 1
    return doc["runs"][0]


def results_of(run, rule_id=None):
    return [r for r in run["results"] if rule_id is None or r["ruleId"] == rule_id]


def uri_of(result) -> str:
    return result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def region_of(result) -> dict:
    return result["locations"][0]["physicalLocation"]["region"]


def file_uri_of(path) -> str:
    return sarif.file_uri(str(path), directory=True)


def columns(line: str, needle: str, length: str | None = None) -> dict:
    """Expected 1-based start/end columns of ``needle`` in ``line`` in both units."""
    i = line.index(needle)
    j = i + len(length if length is not None else needle)

    def u16(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    return {"unicodeCodePoints": (i + 1, j + 1), "utf16CodeUnits": (u16(line[:i]) + 1, u16(line[:j]) + 1)}


# ---------------------------------------------------------------- the log's shape

def test_clean_run_has_empty_results_and_run_health(project):
    write(project, {"ok.go": GO_HEADER + "func main() {}\n", "ok.py": "x = 1\n", "ok.ts": "let x = 1;\n"})
    run = sarif_run(exit_code=0)
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["automationDetails"] == {"id": "cnlint/"}
    inv = run["invocations"]
    assert len(inv) == 1 and inv[0]["executionSuccessful"] is True
    assert inv[0]["toolExecutionNotifications"] == []
    # the root is declared, but its local path is not recorded
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"description": {"text": "The root of the repository."}}}
    assert str(project) not in json.dumps(run)


def test_driver_and_rule_descriptors(project):
    write(project, {
        "main.go": GO_HEADER + 'func main() { fmt.Println("hi") }\n',
        "app.py": 'password = "hunter2"\nx = eval("1")\n',
        "broken.py": "def f(:\n",
    })
    run = sarif_run(exit_code=1)
    driver = run["tool"]["driver"]
    assert driver["name"] == "cnlint"
    assert driver["version"] == driver["semanticVersion"]
    assert re.match(r"^\d+\.\d+\.\d+", driver["semanticVersion"])
    assert driver["informationUri"].startswith("https://")
    rules = {r["id"]: r for r in driver["rules"]}
    # only the rules that reported (ACME002 did not)
    assert sorted(rules) == ["ACME001", "ACME003", "ACME004", "CN001"]
    assert [r["id"] for r in driver["rules"]] == sorted(rules)

    pw = rules["ACME004"]
    assert pw["name"] == "hardcoded-password"
    assert pw["shortDescription"]["text"] == "Hard-coded password"
    # the "What it does" section, unwrapped
    assert pw["fullDescription"]["text"] == "Finds string literals assigned to a variable named `password`."
    assert pw["defaultConfiguration"]["level"] == "error"
    assert pw["properties"]["tags"] == ["security", "external/cwe/cwe-798"]
    assert pw["properties"]["precision"] == "medium"
    assert pw["properties"]["problem.severity"] == "error"
    assert pw["properties"]["security-severity"] == "7.5"  # a numeric string
    float(pw["properties"]["security-severity"])
    assert pw["helpUri"] == "https://example.com/rules/ACME004"
    assert "## Why is this bad?" in pw["help"]["markdown"]
    assert "(https://example.com/rules/ACME004)" in pw["help"]["markdown"]  # GitHub ignores helpUri
    assert pw["help"]["text"]

    cn = rules["CN001"]
    assert cn["helpUri"].endswith("/CN001.md")
    assert f"]({cn['helpUri']})" in cn["help"]["markdown"]
    assert cn["properties"]["problem.severity"] == "error"
    assert "security-severity" not in cn["properties"]

    # a custom rule without its own docs page gets no link to cnlint's docs
    ln = rules["ACME001"]
    assert "helpUri" not in ln and "](http" not in ln["help"]["markdown"]
    assert ln["properties"]["tags"] == ["maintainability"]  # deduplicated
    assert ln["help"]["text"] and ln["fullDescription"]["text"] == "Use the logger"
    assert rules["ACME003"]["properties"]["problem.severity"] == "recommendation"
    assert rules["ACME003"]["defaultConfiguration"]["level"] == "note"

    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"ACME001": "warning", "ACME003": "note", "ACME004": "error", "CN001": "error"}
    for r in run["results"]:
        assert r["message"]["text"]
        assert len(r["locations"]) == 1
        assert set(r["partialFingerprints"]) == {"cnlint/v1"}  # primaryLocationLineHash is GitHub's


def test_all_rules_and_category(project):
    write(project, {"ok.py": "x = 1\n"})
    run = sarif_run("--sarif-all-rules", "--sarif-category", "backend/go", exit_code=0)
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"ACME001", "ACME002", "ACME003", "ACME004", "CN001", "CN002"} <= set(ids)
    assert ids == sorted(ids)
    assert run["automationDetails"]["id"] == "backend/go/"
    assert run["results"] == []


def test_shards_get_a_category_each(project):
    write(project, {"a.py": "x = 1\n", "b.py": "y = 2\n"})
    assert sarif_run("--shard", "2/3")["automationDetails"]["id"] == "cnlint/shard-2-of-3/"
    assert sarif_run("--shard", "2/3", "--sarif-category", "py")["automationDetails"]["id"] == "py/"


def test_syntax_errors_in_every_language(project):
    write(project, {"a.go": "package main\nfunc {\n", "b.ts": "let = ;\n", "c.py": "def f(:\n",
                    "d.js": "function (\n"})
    run = sarif_run("--select", "CN001", exit_code=1)
    assert sorted(uri_of(r) for r in run["results"]) == ["a.go", "b.ts", "c.py", "d.js"]
    assert all(r["ruleId"] == "CN001" and r["level"] == "error" for r in run["results"])


# ---------------------------------------------------------------- paths

def test_uris_are_relative_to_the_repository_root_from_a_subdirectory(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    make_project(repo, {
        "src/my dir/main.go": GO_HEADER + 'func main() { fmt.Println("hi") }\n',
        "src/café/ü.py": "x = eval('1')\n",
        "src/a#b?c%d.py": "x = eval('1')\n",
        "lib/x.go": GO_HEADER + 'func f() { fmt.Println("x") }\n',
    })
    monkeypatch.chdir(repo / "src")
    run = sarif_run("--sarif-root-uri", ".", "../lib", exit_code=1)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == file_uri_of(repo)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/repo/")
    uris = sorted(uri_of(r) for r in run["results"])
    assert uris == ["lib/x.go", "src/a%23b%3Fc%25d.py", "src/caf%C3%A9/%C3%BC.py", "src/my%20dir/main.go"]
    for r in run["results"]:
        al = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert al["uriBaseId"] == "%SRCROOT%"
        assert (repo / unquote(al["uri"])).is_file()  # decodes back to the real file
    # the same log from the repository root: identical URIs and fingerprints
    monkeypatch.chdir(repo)
    again = sarif_run("--sarif-root-uri", "src", "lib", exit_code=1)
    assert [(uri_of(r), r["partialFingerprints"]) for r in again["results"]] == \
           [(uri_of(r), r["partialFingerprints"]) for r in run["results"]]


def test_uris_without_git_use_the_config_root(tmp_path, monkeypatch):
    make_project(tmp_path, {"pkg/sub/x.go": GO_HEADER + 'func f() { fmt.Println("x") }\n',
                            "a:b.py": "eval('1')\n"})
    monkeypatch.chdir(tmp_path / "pkg")
    # outside git, discovery stops at the working directory: name the config
    run = sarif_run("--sarif-root-uri", "--config", "../pyproject.toml", exit_code=1)
    assert [uri_of(r) for r in run["results"]] == ["pkg/sub/x.go"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == file_uri_of(tmp_path)
    monkeypatch.chdir(tmp_path)
    run = sarif_run("a:b.py", exit_code=0)  # a note only: notes do not fail the run (fail-on)
    assert [uri_of(r) for r in run["results"]] == ["a%3Ab.py"]  # ':' in a first segment is encoded


def test_repo_root_argument_and_files_outside_it(project):
    from cnlint.config import load_config
    from cnlint.runner import load, run

    write(project, {"inner/x.go": GO_HEADER + 'func f() { fmt.Println("x") }\n',
                    "outer.go": GO_HEADER + 'func g() { fmt.Println("y") }\n'})
    cfg = load_config(None, ".")
    registry, selection = load(cfg)
    result = run(["."], cfg, registry, selection, jobs=1)
    doc = validate(json.loads(sarif.render(result, repo_root=str(project / "inner"), root_uri=True)))
    locs = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]:
            r["locations"][0]["physicalLocation"]["artifactLocation"] for r in doc["runs"][0]["results"]}
    assert locs["x.go"] == {"uri": "x.go", "uriBaseId": "%SRCROOT%"}
    outer = (project / "outer.go").as_uri()
    assert locs[outer] == {"uri": outer}  # absolute, no base
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == file_uri_of(project / "inner")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinked_files_are_reported_at_their_target(project):
    write(project, {"real/a.go": GO_HEADER + 'func main() { fmt.Println("x") }\n'})
    try:
        os.symlink(os.path.join("real", "a.go"), project / "alias.go")
    except OSError:
        pytest.skip("cannot create symlinks here")
    run = sarif_run("alias.go", exit_code=1)
    assert [uri_of(r) for r in run["results"]] == ["real/a.go"]  # GitHub cannot show a symlink's path
    run = sarif_run(exit_code=1)  # the walk finds both names: one result
    assert [uri_of(r) for r in run["results"]] == ["real/a.go"]


def test_uri_helpers():
    assert sarif.uri_from_relative("a b/c+d;e=f@g:h.go") == "a%20b/c+d;e=f@g:h.go"
    assert sarif.uri_from_relative("x:y/z.go") == "x%3Ay/z.go"
    assert sarif.uri_from_relative("日本/😀.ts") == "%E6%97%A5%E6%9C%AC/%F0%9F%98%80.ts"
    assert sarif.file_uri("/a b/c", directory=True) == "file:///a%20b/c/"
    assert sarif.file_uri("/", directory=True) == "file:///"


# ---------------------------------------------------------------- columns

@pytest.mark.parametrize("kind", ["unicodeCodePoints", "utf16CodeUnits"])
def test_columns_with_multibyte_characters_and_tabs(project, kind):
    go_line = '\tx, y := "é😀中", "\t😀"; fmt.Println("😀中", x, y)'
    ts_line = '\tconst s = "😀é中\t"; const v = eval("😀");'
    py_line = 'd = {"😀": "é中"}; r = eval("😀\t中")'
    write(project, {"m.go": GO_HEADER + "func main() {\n" + go_line + "\n}\n",
                    "m.ts": ts_line + "\n", "m.py": py_line + "\n"})
    run = sarif_run("--column-kind", kind, exit_code=1)
    assert run["columnKind"] == kind
    go = columns(go_line, 'fmt.Println("😀中", x, y)')
    ts = columns(ts_line, 'eval("😀")')
    py = columns(py_line, 'eval("😀\t中")')
    got = {r["ruleId"]: region_of(r) for r in run["results"]}
    assert got["ACME001"] == {"startLine": 6, "startColumn": go[kind][0], "endLine": 6, "endColumn": go[kind][1]}
    assert got["ACME002"] == {"startLine": 1, "startColumn": ts[kind][0], "endLine": 1, "endColumn": ts[kind][1]}
    assert got["ACME003"] == {"startLine": 1, "startColumn": py[kind][0], "endLine": 1, "endColumn": py[kind][1]}
    # the two units really differ on these lines, so the test can tell them apart
    assert go["unicodeCodePoints"] != go["utf16CodeUnits"] and ts["unicodeCodePoints"] != ts["utf16CodeUnits"]

    # fix regions use the same unit
    fix = results_of(run, "ACME001")[0]["fixes"][0]
    assert fix["artifactChanges"][0]["replacements"][0]["deletedRegion"] == got["ACME001"]
    unsafe = results_of(run, "ACME002")[0]["properties"]["cnlint/unsafeFixes"][0]
    fn = columns(ts_line, "eval", "eval")
    assert unsafe["artifactChanges"][0]["replacements"][0]["deletedRegion"] == \
        {"startLine": 1, "startColumn": fn[kind][0], "endLine": 1, "endColumn": fn[kind][1]}
    # related location (the `fmt` identifier)
    rel = results_of(run, "ACME001")[0]["relatedLocations"][0]["physicalLocation"]["region"]
    pkg = columns(go_line, "fmt", "fmt")
    assert (rel["startColumn"], rel["endColumn"]) == pkg[kind]


def test_multi_line_region_and_byte_order_mark(project):
    write(project, {
        "multi.go": GO_HEADER + 'func main() {\n\tfmt.Println(\n\t\t"é",\n\t)\n}\n',
        "bom.ts": "\ufeffeval('1');\n",
    })
    for kind in sarif.COLUMN_KINDS:
        run = sarif_run("--select", "ACME001,ACME002", "--column-kind", kind, exit_code=1)
        got = {r["ruleId"]: region_of(r) for r in run["results"]}
        assert got["ACME001"] == {"startLine": 6, "startColumn": 2, "endLine": 8, "endColumn": 3}
        # SARIF text positions do not count a byte order mark
        assert got["ACME002"] == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 10}


# ---------------------------------------------------------------- fingerprints

def _fingerprints(run, rule_id="ACME001"):
    return [r["partialFingerprints"]["cnlint/v1"] for r in results_of(run, rule_id)]


def test_fingerprints_survive_unrelated_edits(project):
    body = 'func main() {\n\tfmt.Println("hello", 1)\n}\n\nfunc other() {\n\tx := 1\n\t_ = x\n}\n'
    write(project, {"f.go": GO_HEADER + body})
    [before] = _fingerprints(sarif_run(exit_code=1))
    assert re.match(r"^[0-9a-f]{32}:1$", before)

    # lines added above the finding, and whitespace reformatted elsewhere and on the line itself
    moved = ('// a comment\n// another\n\nvar unrelated = 42\n\nfunc main() {\n'
             '        fmt.Println( "hello",1 )\n}\n\nfunc   other()   {\n  x   :=   1\n  _ = x\n}\n')
    write(project, {"f.go": GO_HEADER + moved})
    run = sarif_run(exit_code=1)
    assert region_of(results_of(run)[0])["startLine"] == 11
    assert _fingerprints(run) == [before]

    # the flagged code itself changed: a different finding
    write(project, {"f.go": GO_HEADER + body.replace('"hello", 1', '"goodbye", 1')})
    assert _fingerprints(sarif_run(exit_code=1)) != [before]


def test_identical_findings_in_one_file_get_distinct_fingerprints(project):
    write(project, {"twice.go": GO_HEADER + 'func main() {\n\tfmt.Println("x")\n\tfmt.Println("x")\n}\n',
                    "other.go": GO_HEADER + 'func g() {\n\tfmt.Println("x")\n}\n'})
    run = sarif_run(exit_code=1)
    by_file = {}
    for r in results_of(run):
        by_file.setdefault(uri_of(r), []).append(r["partialFingerprints"]["cnlint/v1"])
    a, b = by_file["twice.go"]
    assert a != b and a.split(":")[0] == b.split(":")[0]
    assert (a.split(":")[1], b.split(":")[1]) == ("1", "2")
    # the fingerprint does not hash the path (it is read next to the URI)
    assert by_file["other.go"] == [a]


# ---------------------------------------------------------------- fixes

def test_safe_fixes_are_fixes_unsafe_and_suggestions_are_marked_apart(project):
    write(project, {"f.go": GO_HEADER + 'func main() { fmt.Println("x") }\n',
                    "f.ts": "eval('1');\n", "f.py": "eval('1')\n"})
    run = sarif_run(exit_code=1)
    safe = results_of(run, "ACME001")[0]
    [fix] = safe["fixes"]
    assert fix["description"]["text"] == "use log"
    assert fix["properties"]["applicability"] == "safe"
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "f.go", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"][0]["insertedContent"] == {"text": "log.Print()"}
    assert "cnlint/unsafeFixes" not in safe.get("properties", {})

    unsafe = results_of(run, "ACME002")[0]
    assert "fixes" not in unsafe  # a generic SARIF viewer must not offer it as a fix
    [ufix] = unsafe["properties"]["cnlint/unsafeFixes"]
    assert ufix["properties"]["applicability"] == "unsafe"
    assert ufix["artifactChanges"][0]["replacements"][0]["insertedContent"] == {"text": "JSON.parse"}

    sugg = results_of(run, "ACME003")[0]
    assert "fixes" not in sugg and "cnlint/unsafeFixes" not in sugg["properties"]
    [sfix] = sugg["properties"]["cnlint/suggestions"]
    assert sfix["properties"]["applicability"] == "suggestion"
    assert sfix["description"]["text"] == "use ast.literal_eval"
    # both are SARIF fix objects: they validate as one
    fix_schema = {**SCHEMA, "$ref": "#/definitions/fix"}
    for f in (fix, ufix, sfix):
        jsonschema.Draft4Validator(fix_schema).validate(f)


# ---------------------------------------------------------------- suppressions

def test_suppressed_findings_excluded_by_default_and_in_source_when_included(project):
    write(project, {"s.go": GO_HEADER + (
        "func main() {\n"
        '\tfmt.Println("a") // cnlint: ignore[ACME001] -- legacy CLI output\n'
        '\tfmt.Println("b") // cnlint: ignore[ACME001]\n'
        '\tfmt.Println("c")\n'
        "}\n")})
    run = sarif_run(exit_code=1)
    assert [region_of(r)["startLine"] for r in run["results"]] == [8]
    assert all("suppressions" not in r for r in run["results"])

    run = sarif_run("--include-suppressed", exit_code=1)
    by_line = {region_of(r)["startLine"]: r for r in run["results"]}
    assert sorted(by_line) == [6, 7, 8]
    assert by_line[6]["suppressions"] == [{"kind": "inSource", "justification": "legacy CLI output"}]
    assert by_line[7]["suppressions"] == [{"kind": "inSource"}]
    assert "suppressions" not in by_line[8]
    assert len({r["partialFingerprints"]["cnlint/v1"] for r in run["results"]}) == 3


# ---------------------------------------------------------------- notifications

def test_notifications_for_skipped_files(project):
    write(project, {"bin.go": b"\x00\x01\x02binary", "bad.py": b"x = '\xff\xfe'\n",
                    "ok.go": GO_HEADER + 'func main() { fmt.Println("x") }\n'})
    run = sarif_run(exit_code=1)
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is True  # skipped files are warnings, not failures
    notes = {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n
             for n in inv["toolExecutionNotifications"]}
    assert set(notes) == {"bin.go", "bad.py"}
    assert all(n["level"] == "warning" for n in notes.values())
    assert "binary" in notes["bin.go"]["message"]["text"]
    assert "UTF-8" in notes["bad.py"]["message"]["text"]
    descriptors = run["tool"]["driver"]["notifications"]
    for n in notes.values():
        assert descriptors[n["descriptor"]["index"]]["id"] == n["descriptor"]["id"] == "cnlint/skipped-file"
    assert len(results_of(run, "ACME001")) == 1  # the rest was still checked


def test_notification_for_a_crashing_rule(project):
    write(project, {"crash.py": "boom()\n", "ok.go": GO_HEADER + 'func main() { fmt.Println("x") }\n'})
    run = sarif_run(exit_code=2)
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False
    [note] = inv["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert "RuntimeError: kaboom" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "crash.py"
    rules = run["tool"]["driver"]["rules"]
    assert note["associatedRule"]["id"] == "ACME003"
    assert rules[note["associatedRule"]["index"]]["id"] == "ACME003"  # described although it reported nothing
    assert run["tool"]["driver"]["notifications"][note["descriptor"]["index"]]["id"] == "cnlint/internal-error"
    assert len(results_of(run, "ACME001")) == 1


def test_notification_for_a_broken_rule_path(tmp_path, monkeypatch):
    make_project(tmp_path, {"ok.py": "x = 1\n"}, rule_paths=("myrules.py", "missing_rules.py"))
    monkeypatch.chdir(tmp_path)
    run = sarif_run(exit_code=2)
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False
    [note] = inv["toolExecutionNotifications"]
    assert note["level"] == "error" and "does not exist" in note["message"]["text"]
    assert "locations" not in note  # no file to point at


# ---------------------------------------------------------------- limits

def _many(project, n_warn=5, n_err=2, n_note=2):
    write(project, {
        "w.go": GO_HEADER + "func main() {\n" + "".join(f'\tfmt.Println("{i}")\n' for i in range(n_warn)) + "}\n",
        "e.py": "".join(f'password = "{i}"\n' for i in range(n_err)),
        "n.py": "".join(f"eval('{i}')\n" for i in range(n_note)),
    })


def test_result_limit_keeps_the_most_severe(project, monkeypatch):
    _many(project)
    monkeypatch.setattr(sarif, "MAX_RESULTS", 4)
    run = sarif_run(exit_code=1)
    got = [(uri_of(r), r["level"], region_of(r)["startLine"]) for r in run["results"]]
    # both errors, then the first two warnings in output order; no notes
    assert got == [("e.py", "error", 1), ("e.py", "error", 2), ("w.go", "warning", 6), ("w.go", "warning", 7)]
    # the rules still describe everything that reported, the dropped notes' rule too
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["ACME001", "ACME003", "ACME004"]
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is True
    [note] = inv["toolExecutionNotifications"]
    assert note["level"] == "warning"
    assert note["message"]["text"].startswith("5 of 9 results were left out")
    assert run["tool"]["driver"]["notifications"][note["descriptor"]["index"]]["id"] == "cnlint/results-truncated"


def test_result_limit_drops_suppressed_first(project, monkeypatch):
    write(project, {"s.go": GO_HEADER + "func main() {\n"
                    '\tfmt.Println("a") // cnlint: ignore[ACME001] -- ok\n\tfmt.Println("b")\n}\n'})
    monkeypatch.setattr(sarif, "MAX_RESULTS", 1)
    run = sarif_run("--include-suppressed", exit_code=1)
    [r] = run["results"]
    assert "suppressions" not in r and region_of(r)["startLine"] == 7


def test_size_limit_keeps_the_log_under_the_gzip_budget(project, monkeypatch):
    _many(project, n_warn=40, n_err=3, n_note=0)
    full = cli("--format", "sarif").stdout
    full_size = len(gzip.compress(full.encode("utf-8"), compresslevel=6))
    limit = full_size - 200
    monkeypatch.setattr(sarif, "MAX_GZIP_BYTES", limit)
    out = cli("--format", "sarif").stdout
    assert len(gzip.compress(out.encode("utf-8"), compresslevel=6)) <= limit
    run = validate(json.loads(out))["runs"][0]
    kept = run["results"]
    assert 3 <= len(kept) < 43
    assert [r["level"] for r in kept[:3]] == ["error"] * 3  # errors survive the cut
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith(f"{43 - len(kept)} of 43 results were left out")

    monkeypatch.setattr(sarif, "MAX_GZIP_BYTES", 1)  # nothing fits: still a valid, explained log
    run = validate(json.loads(cli("--format", "sarif").stdout))["runs"][0]
    assert run["results"] == []
    assert "43 of 43 results" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


@pytest.mark.skipif("baseline" not in getattr(__import__("cnlint").Finding, "__dataclass_fields__", {}),
                    reason="no baseline support in this build")
def test_baseline_state(project):
    from dataclasses import replace

    from cnlint.config import load_config
    from cnlint.runner import load, run

    write(project, {"b.go": GO_HEADER + 'func main() {\n\tfmt.Println("old")\n\tfmt.Println("new")\n}\n'})
    cfg = load_config(None, ".")
    registry, selection = load(cfg)
    result = run(["."], cfg, registry, selection, jobs=1)
    old, new = result.findings
    result.findings = [replace(new, baseline="new")]
    result.hidden = [replace(old, baseline="unchanged")]
    doc = validate(json.loads(sarif.render(result)))
    assert [(r["baselineState"], region_of(r)["startLine"]) for r in doc["runs"][0]["results"]] == [("new", 7)]
    doc = validate(json.loads(sarif.render(result, include_baseline=True)))
    got = [(r["baselineState"], region_of(r)["startLine"]) for r in doc["runs"][0]["results"]]
    assert got == [("new", 7), ("unchanged", 6)]


def test_large_logs_put_one_result_per_line(project, monkeypatch):
    _many(project, n_warn=3, n_err=1, n_note=1)
    pretty = cli("--format", "sarif").stdout
    monkeypatch.setattr(sarif, "PRETTY_MAX_RESULTS", 2)
    compact = cli("--format", "sarif").stdout
    assert json.loads(compact) == json.loads(pretty)
    validate(json.loads(compact))
    lines = [ln for ln in compact.splitlines() if '"ruleId"' in ln]
    assert len(lines) == 5 and all(ln.startswith(" " * 8 + '{"ruleId"') for ln in lines)


# ---------------------------------------------------------------- messages

def test_related_locations_are_linked_from_the_message(project):
    write(project, {"r.go": GO_HEADER + 'func main() { fmt.Println("x") }\n',
                    "m.py": 'say("see [this](1) and [that]")\n'})
    run = sarif_run(exit_code=1)
    r = results_of(run, "ACME001")[0]
    [rel] = r["relatedLocations"]
    assert rel["id"] == 1 and rel["message"]["text"] == "package [fmt] here"
    assert rel["physicalLocation"]["artifactLocation"] == {"uri": "r.go", "uriBaseId": "%SRCROOT%"}
    # brackets in link text are escaped (SARIF §3.11.6)
    assert r["message"]["text"] == "use the logger (related: [package \\[fmt\\] here](1))"
    # a message that merely looks like an embedded link is not one
    m = results_of(run, "ACME003")[0]
    assert m["message"]["text"] == "see \\[this\\](1) and [that]"
    assert "relatedLocations" not in m


# ---------------------------------------------------------------- CLI wiring

def test_sarif_output_file_next_to_another_format(project):
    write(project, {"f.go": GO_HEADER + 'func main() { fmt.Println("x") }\n'})
    res = cli("--sarif-output", "reports/cnlint.sarif")
    assert res.exit_code == 1
    assert "f.go:5:15: warning[ACME001] use the logger" in res.stdout  # stdout keeps the text format
    with open(project / "reports" / "cnlint.sarif", encoding="utf-8") as f:
        run = validate(json.load(f))["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["ACME001"]

    res = cli("--format", "github", "--sarif-output", "again.sarif", "--column-kind", "utf16CodeUnits",
              "--sarif-category", "go")
    assert res.stdout.startswith("::warning file=f.go,")
    with open(project / "again.sarif", encoding="utf-8") as f:
        run = validate(json.load(f))["runs"][0]
    assert run["columnKind"] == "utf16CodeUnits" and run["automationDetails"]["id"] == "go/"

    res = cli("--format", "sarif", "-o", "out.sarif", "--sarif-output", "both.sarif")
    assert res.stdout == ""
    with open(project / "out.sarif", encoding="utf-8") as f1, open(project / "both.sarif", encoding="utf-8") as f2:
        assert validate(json.load(f1)) == validate(json.load(f2))


def test_column_kind_is_validated(project):
    res = CliRunner().invoke(main, ["check", "--format", "sarif", "--column-kind", "bytes"])
    assert res.exit_code == 2 and "bytes" in res.output


# ---------------------------------------------------------------- --format github

def test_github_annotations(project):
    write(project, {
        "f.go": GO_HEADER + 'func main() {\n\tfmt.Println(\n\t\t"é",\n\t)\n\tfmt.Println("é😀")\n}\n',
        "we,ird:name.py": 'password = "x"\nsay("100% done\\r\\nnext: a,b::c")\n',
        "bin.go": b"\x00binary",
        "bom.ts": "\ufeffeval('1');\n",
    })
    res = cli("--format", "github")
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert lines == [
        "::warning file=bom.ts,line=1,col=1,endLine=1,endColumn=10,title=ACME002 no-eval-ts::eval is dangerous",
        "::warning file=f.go,line=6,endLine=8,title=ACME001 no-fmt-println::use the logger",
        "::warning file=f.go,line=9,col=2,endLine=9,endColumn=19,title=ACME001 no-fmt-println::use the logger",
        "::error file=we%2Cird%3Aname.py,line=1,col=1,endLine=1,endColumn=15,"
        "title=ACME004 hardcoded-password::hard-coded password",
        "::notice file=we%2Cird%3Aname.py,line=2,col=1,endLine=2,endColumn=33,"
        "title=ACME003 no-eval::100%25 done%0D%0Anext: a,b::c",
        "::warning file=bin.go,title=cnlint%3A file skipped::binary file",
    ]


def test_github_paths_are_relative_to_the_repository_root(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    make_project(tmp_path, {"svc/x.go": GO_HEADER + 'func main() { fmt.Println("x") }\n'})
    monkeypatch.chdir(tmp_path / "svc")
    res = cli("--format", "github", ".")
    assert res.stdout.startswith("::warning file=svc/x.go,line=5,")


def test_github_escaping_helpers():
    assert github.escape_data("50% a\r\nb: c, d") == "50%25 a%0D%0Ab: c, d"
    assert github.escape_property("50% a\r\nb: c, d") == "50%25 a%0D%0Ab%3A c%2C d"
    assert github.command("error", "x\n::warning::y", file="a,b.go", line=3, col=None) == \
        "::error file=a%2Cb.go,line=3::x%0A::warning::y"
    assert github.command("notice", "plain") == "::notice::plain"


# ---------------------------------------------------------------- API

def test_render_rejects_unknown_column_kind(project):
    from cnlint.runner import RunResult

    with pytest.raises(ValueError):
        sarif.render(RunResult(), column_kind="bytes")
    doc = validate(json.loads(sarif.render(RunResult())))  # an empty result renders a valid log
    assert doc["runs"][0]["results"] == []


def test_the_schema_copy_is_the_official_one():
    import hashlib

    with open(SCHEMA_PATH, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest == "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
    assert SCHEMA["id"] == sarif.SCHEMA_URI
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"


def test_help_text_is_readable_without_markdown(project):
    write(project, {"p.py": 'password = "x"\n'})
    run = sarif_run(exit_code=1)
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["help"]["text"].startswith("Hard-coded password\n\n## What it does")
    assert rule["help"]["text"].rstrip().endswith("Documentation: https://example.com/rules/ACME004")
