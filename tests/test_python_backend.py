"""The Python backend's own traversal, name resolution and positions agree with
libcst's (slower) originals."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import (ByteSpanPositionProvider, MetadataWrapper, ParentNodeProvider,
                             QualifiedNameProvider)

from cnlint.backends.python_names import Scopes
from cnlint.backends.python_spans import SpanIndex
from cnlint.backends.python_walk import ParentMap, Walker

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLES = [STDLIB / n for n in ("argparse.py", "asyncio/base_events.py", "dataclasses.py",
                                "json/decoder.py", "typing.py")]

SOURCE = '''\
# header comment
"""doc"""
import os.path
import requests as rq
from urllib import request
from . import sibling
from .pkg import thing as other
from ssl import _create_unverified_context as unverified

def f(rq, x=os.path.join("a")):
    rq.get(x)            # the parameter, not requests
    request.urlopen(x)
    open(x)
    return lambda os: os.sep

class C:
    session = requests_later = None
    def m(self):
        return rq.get(self)   # module-level rq: requests (class scope skipped)

def g():
    global rq
    rq.post("u")
    import json as j
    j.loads("1")
    for request in []:
        request.read()
    undefined_thing()
    sibling.x(); other(); unverified()
'''


def _libcst_order(module):
    seen = []

    class Rec(cst.CSTVisitor):
        def on_visit(self, node):
            seen.append(node)
            return True
    module.visit(Rec())
    return seen


NODE_CLASSES = [c for c in vars(cst).values() if isinstance(c, type) and issubclass(c, cst.CSTNode)]


@pytest.mark.parametrize("path", SAMPLES + [None], ids=lambda p: p.name if p else "synthetic")
def test_walk_visits_what_libcst_visits_in_the_same_order_with_the_same_parents(path):
    module = cst.parse_module(path.read_text() if path else SOURCE)
    expected = _libcst_order(module)
    truth = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider)

    seen = []  # a visitor for every node class: nothing is skipped
    parents = ParentMap(module)
    Walker({f"visit_{c.__name__}": [seen.append] for c in NODE_CLASSES}, parents).walk(module)
    assert len(seen) == len(expected) > 100
    assert all(a is b for a, b in zip(seen, expected))
    assert all(parents.get(n) is truth.get(n) for n in expected)

    # visitors for some classes only: whitespace and punctuation are not walked,
    # everything else is, in the same order
    seen = []
    wanted = (cst.Call, cst.Name, cst.FunctionDef, cst.Not, cst.Comma)
    Walker({f"visit_{c.__name__}": [seen.append] for c in wanted}, ParentMap(module)).walk(module)
    expected = [n for n in expected if isinstance(n, wanted)]
    assert len(seen) == len(expected) and all(a is b for a, b in zip(seen, expected))


def test_parent_map_answers_for_nodes_the_walk_has_not_reached():
    module = cst.parse_module(SOURCE)
    parents = ParentMap(module)
    call = module.body[-1].body.body[-1].body[0].value  # sibling.x() in g, never walked
    assert isinstance(parents.get(call), cst.Expr)


def test_qualified_names_follow_imports_scopes_and_shadowing():
    module = cst.parse_module(SOURCE)
    scopes = Scopes(module)
    got: list[tuple[str, frozenset]] = []

    def on_call(node):
        got.append((module.code_for_node(node.func), frozenset(scopes.qualified_names(node.func))))
    Walker({"visit_Call": [on_call]}, ParentMap(module), scopes).walk(module)
    assert got == [
        ("os.path.join", {"os.path.join"}),  # default value: enclosing (module) scope
        ("rq.get", frozenset()),             # parameter shadows the import
        ("request.urlopen", {"urllib.request.urlopen"}),
        ("open", {"builtins.open"}),
        ("rq.get", {"requests.get"}),        # method: class scope skipped, module import seen
        ("rq.post", {"requests.post"}),      # global rq
        ("j.loads", {"json.loads"}),         # function-level import
        ("request.read", frozenset()),       # loop variable shadows the import in g
        ("undefined_thing", frozenset()),
        ("sibling.x", {".sibling.x"}),
        ("other", {".pkg.thing"}),
        ("unverified", {"ssl._create_unverified_context"}),
    ]
    # ...and agree with libcst's full scope analysis wherever libcst resolves an import
    truth = MetadataWrapper(module, unsafe_skip_copy=True).resolve(QualifiedNameProvider)
    libcst_names = {}
    for n, v in truth.items():
        v = v() if callable(v) else v
        if v and isinstance(n, (cst.Name, cst.Attribute)):
            libcst_names.setdefault(module.code_for_node(n), {q.name for q in v})
    checked = [code for code, names in got if names and code in libcst_names]
    assert len(checked) >= 5
    for code, names in got:
        if code in checked and code != "rq.get":  # libcst keys rq.get by its first occurrence
            assert libcst_names[code] == names, code


def test_names_inside_import_statements_resolve_to_nothing():
    module = cst.parse_module("from ssl import _create_unverified_context as u\nu()\n")
    scopes = Scopes(module)
    got = []
    Walker({"visit_Name": [lambda n: got.append((n.value, scopes.qualified_names(n)))]},
           None, scopes).walk(module)
    assert got == [("ssl", set()), ("_create_unverified_context", set()), ("u", set()),
                   ("u", {"ssl._create_unverified_context"})]


@pytest.mark.parametrize("path", SAMPLES[:2] + [None], ids=lambda p: p.name if p else "synthetic")
def test_statement_spans_equal_whole_module_spans(path):
    source = path.read_text() if path else SOURCE
    module = cst.parse_module(source)
    parents = ParentMap(module)
    Walker({}, parents).walk(module)
    index = SpanIndex(module, parents)
    truth = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ByteSpanPositionProvider)
    nodes = [n for n in truth if isinstance(n, (cst.Call, cst.Name, cst.Arg, cst.FunctionDef, cst.EmptyLine))]
    assert len(nodes) > 50
    for n in nodes[::7] + nodes[-5:]:  # unordered on purpose: offsets are summed lazily
        s = truth[n]
        assert index.span(n) == (s.start, s.start + s.length)


# ---- incremental parsing (language server) ----

def _edit(text: str, rng) -> str:
    """One random editor-like edit: type a character, add or delete a line,
    paste an indented line, add a comment, a decorator or a blank line."""
    lines = text.splitlines(keepends=True)
    i = rng.randrange(len(lines))
    kind = rng.choice(["type", "insert", "delete", "indented", "comment", "indented comment",
                       "decorator", "blank"])
    if kind == "type":
        line = lines[i]
        j = rng.randrange(max(len(line) - 1, 1))
        lines[i] = line[:j] + rng.choice("xyz_ ") + line[j:]
    elif kind == "insert":
        lines.insert(i, "value_%d = compute(%d)\n" % (i, i))
    elif kind == "delete" and len(lines) > 10:
        del lines[i]
    elif kind == "indented":
        lines.insert(i, "    extra_%d = 1\n" % i)
    elif kind == "comment":
        lines.insert(i, "# note %d\n" % i)
    elif kind == "indented comment":
        lines.insert(i, "    # note %d\n" % i)
    elif kind == "decorator":
        lines.insert(i, "@decorated\n")
    else:
        lines.insert(i, "\n")
    return "".join(lines)


@pytest.mark.parametrize("path", SAMPLES[2:4] + [None], ids=lambda p: p.name if p else "synthetic")
def test_incremental_parse_equals_a_full_parse_after_every_edit(path):
    import random

    from cnlint.backends.python_incremental import IncrementalModule

    text = path.read_text() if path else SOURCE
    doc = IncrementalModule()
    doc.parse(text)
    rng = random.Random(7)
    partial = valid = broken = 0
    for _ in range(80):
        new = _edit(text, rng)
        try:
            full = cst.parse_module(new)
        except cst.ParserSyntaxError:
            broken += 1
            with pytest.raises(cst.ParserSyntaxError):
                doc.parse(new)
            continue  # the editor's next edit starts from the last good text
        got = doc.parse(new)
        text = new
        valid += 1
        assert got.code == new
        assert got.deep_equals(full)
        # line starts of the statements agree with the code
        line = len(got.code_for_node(got.with_changes(body=(), footer=())).splitlines()) if got.header else 0
        assert doc.starts[0] == line
        for stmt, start, end in zip(got.body, doc.starts, doc.starts[1:]):
            assert end - start == len(got.code_for_node(stmt).splitlines())
        partial += doc.reparsed_lines < len(doc.lines) // 2
    assert valid >= 20 and broken
    if path:  # most edits of a real file re-parse a small part of it
        assert partial >= valid // 2


def test_language_server_engine_reuses_unchanged_statements_and_positions():
    from cnlint.config import Config
    from cnlint.engine import Engine
    from cnlint.runner import load

    unit = "def fetch_{i}(url):\n    return requests.get(url, verify=False)\n\n"
    text = "import requests\n\n" + "".join(unit.format(i=i) for i in range(50))
    cfg = Config(root="/")
    engine = Engine(cfg, *load(cfg), cwd="/")
    batch = engine.check("/x/jobs.py", "python", text.encode())
    engine.documents = {}
    engine.check("/x/jobs.py", "python", text.encode())
    edited = text.replace("def fetch_10(url):\n", "def fetch_10(url):\n    print(url)\n")
    live = engine.check("/x/jobs.py", "python", edited.encode())
    doc = engine.documents["/x/jobs.py"]
    assert doc.reparsed_lines < 20
    engine.documents = None
    fresh = engine.check("/x/jobs.py", "python", edited.encode())
    assert [(f.rule_id, f.span) for f in live.findings] == [(f.rule_id, f.span) for f in fresh.findings]
    assert len(fresh.findings) == len(batch.findings) == 100  # SEC001 and NET001 in each function
    sec = [f.span.start_line for f in fresh.findings if f.rule_id == "SEC001"]
    assert sec[9:12] == [31, 35, 38]  # fetch_10 and below moved down by one line (34 -> 35)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_language_server_positions_with_any_line_ending(newline):
    """The incremental parser's statement offsets agree with a fresh parse
    whatever the line endings (and with non-ASCII text before the finding)."""
    from cnlint.config import Config
    from cnlint.engine import Engine
    from cnlint.runner import load

    unit = "def fetch_{i}(url):{nl}    # é ü{nl}    return requests.get(url, verify=False){nl}{nl}"
    text = "import requests" + newline + "".join(unit.format(i=i, nl=newline) for i in range(6))
    cfg = Config(root="/")
    engine = Engine(cfg, *load(cfg), cwd="/")
    engine.documents = {}
    engine.check("/x/crlf.py", "python", text.encode())
    edited = text.replace("def fetch_3(url):", "def fetch_3(url, timeout=1):")
    live = engine.check("/x/crlf.py", "python", edited.encode())
    assert engine.documents["/x/crlf.py"].reparsed_lines < len(edited.splitlines())
    engine.documents = None
    fresh = engine.check("/x/crlf.py", "python", edited.encode())
    assert [(f.rule_id, f.span) for f in live.findings] == [(f.rule_id, f.span) for f in fresh.findings]
    assert sum(f.rule_id == "SEC001" for f in fresh.findings) == 6
