"""The Go semantic layer (cnlint.golang): package names of imports, call
targets, declarations, duration evaluation and keyed elements."""

from __future__ import annotations

import textwrap

import pytest

from cnlint.backends.treesitter import parser
from cnlint.context import FileContext
from cnlint.golang import (
    GoSemantics, assumed_package_name, call_args, format_duration, keyed, keyed_elements, parse_duration, text,
    values_assigned_before, walk,
)
from cnlint.project import project_for
from cnlint.source import SourceFile

DISPUTED = ["k8s.io/api/core/v1", "gopkg.in/yaml.v3", "github.com/dgrijalva/jwt-go",
            "google.golang.org/api/compute/v1"]


def semantics(src: str, directory=None) -> GoSemantics:
    tree = parser("go").parse(textwrap.dedent(src).encode())
    return GoSemantics(tree, project_for(str(directory)).go_mod if directory is not None else None)


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def bare_imports(*paths: str) -> str:
    return "package main\n\nimport (\n" + "".join(f'\t"{p}"\n' for p in paths) + ")\n"


# ---- package names ----
@pytest.mark.parametrize("path,name", [
    # goimports' ImportPathToAssumedName (golang.org/x/tools/internal/imports)
    ("k8s.io/api/core/v1", "core"),  # any v<digits> element names the one before it, v1 too
    ("google.golang.org/api/compute/v1", "compute"),
    ("gopkg.in/yaml.v3", "yaml"),  # cut at the first non-identifier character
    ("github.com/dgrijalva/jwt-go", "jwt"),
    ("github.com/coreos/go-oidc/v3/oidc", "oidc"),
    ("github.com/go-resty/resty/v2", "resty"),
    ("github.com/labstack/echo/v4", "echo"),
    ("github.com/hashicorp/golang-lru", "golang"),  # only "go-" is a prefix goimports drops
    ("net/http", "http"),
    ("v2", "v2"),
])
def test_assumed_package_name(path, name):
    assert assumed_package_name(path) == name


def test_disputed_paths_without_source_use_goimports_names():
    go = semantics(bare_imports(*DISPUTED) + "var _ = core.Pod{}\n")
    assert go.imports.names == {"core": DISPUTED[0], "yaml": DISPUTED[1], "jwt": DISPUTED[2],
                                "compute": DISPUTED[3]}


def test_file_that_uses_the_last_element_names_the_package_by_it():
    """``"k8s.io/api/core/v1"`` imported bare and used as ``v1.Pod``: the file
    compiles only if the package is named ``v1`` (it is)."""
    go = semantics(bare_imports("k8s.io/api/core/v1", "google.golang.org/api/compute/v1")
                   + "var p v1.Pod\nvar s = compute.NewService\n")
    assert go.imports.path_of("v1") == "k8s.io/api/core/v1"
    assert go.imports.path_of("compute") == "google.golang.org/api/compute/v1"
    assert go.imports.path_of("core") is None


def test_disputed_paths_with_source_in_vendor(tmp_path):
    write(tmp_path / "go.mod", "module example.com/app\n\ngo 1.22\n")
    for path, clause in zip(DISPUTED, ("v1", "yaml", "jwt", "compute")):
        write(tmp_path / "vendor" / path / "doc.go", f"// Package {clause}.\npackage {clause}\n")
    go = semantics(bare_imports(*DISPUTED), tmp_path)  # no usage in the file: the source decides
    assert go.imports.names == {"v1": DISPUTED[0], "yaml": DISPUTED[1], "jwt": DISPUTED[2],
                                "compute": DISPUTED[3]}


def test_package_clause_wins_over_conventions(tmp_path):
    """The package clause decides, even against goimports and the file's usage."""
    write(tmp_path / "go.mod", "module example.com/app\n")
    write(tmp_path / "vendor/gopkg.in/yaml.v3/yaml.go", "/* package nope */\npackage yamlv3\n")
    write(tmp_path / "vendor/gopkg.in/yaml.v3/yaml_test.go", "package yaml_test\n")
    go = semantics(bare_imports("gopkg.in/yaml.v3"), tmp_path)
    assert go.imports.names == {"yamlv3": "gopkg.in/yaml.v3"}


def test_package_in_the_module_itself(tmp_path):
    write(tmp_path / "go.mod", "module example.com/app\n")
    write(tmp_path / "api/v1/types.go", "package apiv1\n")
    write(tmp_path / "api/v1/main.go", "package main\n")  # a stray command does not win
    write(tmp_path / "api/v1/more.go", "package apiv1\n")
    go = semantics(bare_imports("example.com/app/api/v1"), tmp_path)
    assert go.imports.names == {"apiv1": "example.com/app/api/v1"}


def test_package_in_the_module_cache(tmp_path, monkeypatch):
    cache = tmp_path / "modcache"
    monkeypatch.setenv("GOMODCACHE", str(cache))
    write(tmp_path / "app/go.mod", """\
        module example.com/app

        require (
        \tgithub.com/Dgrijalva/jwt-go v3.2.0+incompatible // indirect
        \tk8s.io/api v0.30.1
        )
        """)
    write(cache / "github.com/!dgrijalva/jwt-go@v3.2.0+incompatible/token.go", "package jwt\n")
    write(cache / "k8s.io/api@v0.30.1/core/v1/types.go", "package v1\n")
    go = semantics(bare_imports("github.com/Dgrijalva/jwt-go", "k8s.io/api/core/v1"), tmp_path / "app")
    assert go.imports.names == {"jwt": "github.com/Dgrijalva/jwt-go", "v1": "k8s.io/api/core/v1"}


def test_package_behind_a_replace_directive(tmp_path):
    write(tmp_path / "app/go.mod", "module example.com/app\n\nreplace k8s.io/api => ../api\n")
    write(tmp_path / "api/core/v1/types.go", "package v1\n")
    go = semantics(bare_imports("k8s.io/api/core/v1"), tmp_path / "app")
    assert go.imports.names == {"v1": "k8s.io/api/core/v1"}


def test_aliases_dot_and_blank_imports():
    go = semantics('''\
        package main

        import (
        \tcorev1 "k8s.io/api/core/v1"
        \t. "crypto/tls"
        \t_ "net/http/pprof"
        )
        ''')
    assert go.imports.names == {"corev1": "k8s.io/api/core/v1"}
    assert go.imports.dot_imports == ["crypto/tls"]
    assert go.imports.alias_for("k8s.io/api/core/v1") == "corev1"
    assert go.imports.imports_prefix("k8s.io/")


def test_file_context_builds_the_layer_once(tmp_path):
    path = tmp_path / "main.go"
    src = b'package main\n\nimport "net/http"\n\nvar _ = http.Get\n'
    path.write_bytes(src)
    ctx = FileContext(str(path), "go", SourceFile(str(path), src), {})
    ctx.tree = parser("go").parse(src)
    assert ctx.go is ctx.go
    assert ctx.go.imports.names == {"http": "net/http"}


# ---- call targets ----
CALLS = '''\
    package main

    import (
    \t"net/http"
    \tcorev1 "k8s.io/api/core/v1"
    \t"k8s.io/utils/ptr"
    \t"time"
    )

    type Store struct{}

    func (s *Store) Sync() {}

    var shared = &http.Client{}

    func f(req *http.Request, c *http.Client) {
    \thttp.Get("x")
    \tptr.To[time.Duration](3)
    \tc.Do(req)
    \tlocal := http.Client{Timeout: time.Second}
    \tlocal.Get("y")
    \tshared.Head("z")
    \ts := new(Store)
    \ts.Sync()
    \tt := corev1.Pod{}
    \tt.DeepCopy()
    \tunknown.Call()
    \tfresh().Do(req)
    }
    '''


def _calls(go):
    return {n.child_by_field_name("function").text.decode(): go.call_target(n)
            for n in walk(go.root) if n.type == "call_expression"}


def test_call_targets():
    got = _calls(semantics(CALLS))
    assert got["http.Get"] == ("net/http", "Get")
    assert got["c.Do"] == ("net/http", "Client.Do")  # a parameter's type
    assert got["local.Get"] == ("net/http", "Client.Get")  # a composite literal
    assert got["shared.Head"] == ("net/http", "Client.Head")  # a package-level var
    assert got["s.Sync"] == ("", "Store.Sync")  # new(T) of a type of this file
    assert got["t.DeepCopy"] == ("k8s.io/api/core/v1", "Pod.DeepCopy")
    assert got["unknown.Call"] is None
    assert got["fresh().Do"] is None


def test_package_call_ignores_methods():
    go = semantics(CALLS)
    calls = [n for n in walk(go.root) if n.type == "call_expression"]
    assert [go.package_call(c, "net/http") for c in calls if go.package_call(c, "net/http")] == ["Get"]


# ---- declarations ----
def test_resolve_finds_the_innermost_last_declaration():
    go = semantics('''\
        package main

        var d = 1

        func f(d int) {
        \td = 2
        \tfunc() {
        \t\td := 3
        \t\t_ = d
        \t}()
        \t_ = d
        }
        ''')
    uses = [n for n in walk(go.root) if n.type == "identifier" and n.text == b"d"
            and n.parent.type == "expression_list" and n.parent.parent.type == "assignment_statement"
            and n.parent.parent.child_by_field_name("right").id == n.parent.id]
    inner, outer = uses
    assert go.resolve(inner).node.text == b"3"
    assert go.resolve(outer).kind == "value" and go.resolve(outer).node.text == b"2"


def test_values_assigned_before():
    go = semantics('''\
        package main

        func f() {
        \tc := Client{}
        \tjob, err := compute()
        \tfunc() { c = Client{Timeout: 1} }()
        \tuse(c, job, err)
        \tc = Other{}
        }
        ''')
    use = next(n for n in walk(go.root) if n.type == "call_expression" and n.text.startswith(b"use("))
    assert [v.text for v in values_assigned_before(use, "c")] == [b"Client{}", b"Client{Timeout: 1}"]
    assert [v.text for v in values_assigned_before(use, "err")] == [b"compute()"]


# ---- durations ----
DURATIONS = '''\
    package p

    import (
    \t"flag"
    \t"time"
    \tt "time"
    \tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
    \t"k8s.io/utils/ptr"
    )

    const lease = 45 * time.Second

    var flagged = 3 * time.Second

    var counted = time.Second

    func init() {{
    \tflag.DurationVar(&flagged, "x", flagged, "")
    \tcounted++
    }}

    func f(interval time.Duration) {{
    \tperiod := 30 * time.Second
    \topts := struct{{ P *time.Duration }}{{P: &period}}
    \tx := {expr}
    }}
    '''


@pytest.mark.parametrize("expr,ns,unit,ident", [
    ("15 * time.Second", 15 * 10**9, True, ""),
    ("time.Minute + 30*time.Second", 90 * 10**9, True, ""),
    ("time.Duration(2) * t.Hour", 7200 * 10**9, True, ""),  # any alias of "time"
    ("(500 * time.Millisecond)", 5 * 10**8, True, ""),
    ("(2 * time.Hour) / 4", 1800 * 10**9, True, ""),
    ("time.Minute / time.Second", 60, False, ""),  # a plain number
    ("time.Duration(30)", 30, False, ""),
    ("int64(0x10)", 16, False, ""),
    ("-1 * time.Second", -(10**9), True, ""),
    ("metav1.Duration{Duration: 137 * time.Second}", 137 * 10**9, True, ""),
    ("ptr.To(10 * time.Second)", 10 * 10**9, True, ""),
    ("&period", 30 * 10**9, True, "period"),  # its address in a literal does not change it
    ("lease", 45 * 10**9, True, "lease"),
    ("lease * 2", 90 * 10**9, True, "lease"),
    ("flagged", None, None, None),  # flag.DurationVar(&flagged, ...) writes it
    ("counted", None, None, None),  # counted++
    ("interval * 2", None, None, None),  # a parameter
    ("time.Now().Sub(time.Now())", None, None, None),
])
def test_duration(expr, ns, unit, ident):
    go = semantics(DURATIONS.format(expr=expr))
    decl = next(n for n in walk(go.root) if n.type == "short_var_declaration"
                and n.child_by_field_name("left").text == b"x")
    d = go.duration(decl.child_by_field_name("right").named_children[0])
    if ns is None:
        assert d is None
    else:
        assert (d.ns, d.has_unit, d.ident) == (ns, unit, ident)


@pytest.mark.parametrize("ns,text", [
    (0, "0s"), (60, "60ns"), (1500, "1.5µs"), (5 * 10**8, "500ms"), (1_500_000, "1.5ms"),
    (15 * 10**9, "15s"), (10.8e9, "10.8s"), (137 * 10**9, "2m17s"), (90 * 10**9, "1m30s"),
    (3600 * 10**9, "1h0m0s"), (5400 * 10**9 + 1, "1h30m0.000000001s"), (-30 * 10**9, "-30s"),
])
def test_format_duration_is_gos(ns, text):
    assert format_duration(ns) == text


def test_parse_duration():
    assert parse_duration("1m") == 60 * 10**9
    assert parse_duration("1h30m") == 5400 * 10**9
    assert parse_duration("500ms") == 5 * 10**8
    assert parse_duration("-1.5s") == -1_500_000_000
    assert parse_duration("0") == 0
    with pytest.raises(ValueError):
        parse_duration("1 minute")


# ---- keyed elements ----
class FakeNode:
    """A node of the older tree-sitter-go shape (keys as bare field_identifier)."""

    def __init__(self, type_, text=b"", children=()):
        self.type, self.text, self.named_children = type_, text, list(children)
        self.named_child_count = len(self.named_children)


def test_keyed_elements_in_the_current_grammar():
    go = semantics('package p\n\nvar c = Config{Name: "x", Timeout: 3, Other: nil}\n')
    body = next(n for n in walk(go.root) if n.type == "literal_value")
    assert body.named_children[0].named_children[0].type == "literal_element"  # tree-sitter-go >= 0.21
    found = {k: v.text.decode() for k, (_, v) in keyed_elements(body).items()}
    assert found == {"Name": '"x"', "Timeout": "3", "Other": "nil"}


def test_keyed_elements_in_the_older_grammar():
    elem = FakeNode("keyed_element", children=[FakeNode("field_identifier", b"Timeout"),
                                               FakeNode("int_literal", b"3")])
    body = FakeNode("literal_value", children=[elem])
    assert keyed(elem) == ("Timeout", elem.named_children[1])
    assert list(keyed_elements(body)) == ["Timeout"]


def test_each_scope_is_indexed_once_per_file(monkeypatch):
    """A function that uses one variable in many calls (generated tables, a
    fuzzed file: 1,200 calls made K8S003 run for minutes) walks the function
    once, not once per use; answers stay the same."""
    from cnlint.golang import scopes

    built = []
    real = scopes.ScopeIndex

    def counting(scope):
        built.append(scope.type)
        return real(scope)

    monkeypatch.setattr(scopes, "ScopeIndex", counting)
    body = "".join(f"\t_ = f(d * {i})\n" for i in range(300))
    go = semantics(f'package a\nimport "time"\nconst base = time.Second\n'
                   f'func g() {{\n\td := 2 * base\n{body}\tvar e time.Duration\n\tset(&e)\n\t_ = f(e)\n}}\n')
    calls = [n for n in walk(go.root) if n.type == "call_expression" and text(n.child_by_field_name("function")) == "f"]
    values = {go.duration(call_args(c)[0]).ns for c in calls[:-1]}
    assert values == {2 * 10**9 * i for i in range(300)}
    assert go.duration(call_args(calls[-1])[0]) is None  # &e passed to a call: may change
    assert sorted(built) == ["function_declaration", "source_file"]
