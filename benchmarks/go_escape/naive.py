#!/usr/bin/env python3
"""The naive baseline the issue compares PERF001 with: a `return &T{}` / `return &x` matcher.

    python benchmarks/go_escape/naive.py --truth out/truth.json -o naive.json
    python benchmarks/go_escape/score.py --truth out/truth.json --findings naive.json

For every ``return`` statement of every compiled file, each returned
``&T{...}`` is reported at its ``&`` and each returned ``&x`` at the
declaration of ``x`` when ``x`` is a parameter or a variable declared in the
same function (by name, no scopes, no types). Writes cnlint's JSON format with
absolute paths, so score.py reads it like cnlint's output.
"""

from __future__ import annotations

import argparse
import json
import sys

import tree_sitter as ts
import tree_sitter_go as tsgo

LANG = ts.Language(tsgo.language())
FUNCS = ("function_declaration", "method_declaration", "func_literal")


def declarations(fn) -> dict[bytes, object]:
    out = {}
    stack = [fn]
    while stack:
        n = stack.pop()
        if n is not fn and n.type in FUNCS:
            continue
        if n.type in ("parameter_declaration", "var_spec"):
            for c in n.children_by_field_name("name"):
                out.setdefault(c.text, c)
        elif n.type == "short_var_declaration":
            left = n.child_by_field_name("left")
            for c in left.named_children if left else ():
                if c.type == "identifier":
                    out.setdefault(c.text, c)
        stack.extend(reversed(n.children))
    return out


def scan(path: str) -> list[dict]:
    with open(path, "rb") as f:
        data = f.read()
    tree = ts.Parser(LANG).parse(data)
    out = []
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type != "return_statement" or not n.named_children:
            continue
        fn = n.parent
        while fn is not None and fn.type not in FUNCS:
            fn = fn.parent
        if fn is None:
            continue
        for e in n.named_children[0].named_children if n.named_children[0].type == "expression_list" else [n.named_children[0]]:
            if e.type != "unary_expression" or e.child_by_field_name("operator").type != "&":
                continue
            x = e.child_by_field_name("operand")
            while x is not None and x.type == "parenthesized_expression":
                x = x.named_children[0]
            at = None
            if x is not None and x.type == "composite_literal":
                at = e
            elif x is not None and x.type == "identifier":
                at = declarations(fn).get(x.text)
            if at is not None:
                line = at.start_point[0] + 1
                col = len(data[data.rfind(b"\n", 0, at.start_byte) + 1: at.start_byte].decode("utf-8", "replace")) + 1
                out.append({"rule_id": "PERF001", "path": path, "message": "naive",
                            "start": {"line": line, "column": col}})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth", required=True)
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args(argv)
    with open(args.truth, encoding="utf-8") as f:
        files = json.load(f)["files"]
    findings = [fd for p in files for fd in scan(p)]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"version": 1, "findings": findings}, f)
    print(f"naive.py: {len(findings)} findings in {len(files)} files -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
