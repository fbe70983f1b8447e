"""Checks the engine performs itself; they are rules so they can be selected,
ignored, re-levelled and explained like any other."""

from cnlint import EngineRule, languages


class SyntaxErrorRule(EngineRule):
    id = "CN001"
    name = "syntax-error"
    summary = "The file does not parse"
    severity = "error"
    tags = ("correctness",)
    languages = languages.ALL
    help = """\
## What it does
Reports the first syntax error in a file, at the position the parser gave up,
when the language's own parser would reject the file too: CPython's parser for
Python; for Go, a grammar that follows the current Go release
(tree-sitter-golang, which accepts what go/parser accepts); for TypeScript,
tree-sitter-typescript less the constructs its grammar is known not to know.

## When it stays quiet
Valid code is never reported, even where the grammar cnlint's rules read
(tree-sitter-go 0.25, tree-sitter-typescript 0.23, tree-sitter-javascript
0.25) is older than the language: Go 1.26's `new(expr)`, functions of one's
own named `new` or `make`, Go 1.27's generic methods; TypeScript's variance
annotations (`<in out T>`), overloaded call signatures without `;`, a function
type whose parameter is named like a type (`(boolean) => void`), an escaped
backtick in a template literal type, type arguments of a tagged template on a
member (``styled.div<Props>`...` ``); a bare `&` in JSX text; an escape
that is not one in a tagged template (``String.raw`\\uc1` ``).
The rules then read a tree of a copy of the file in which these constructs are
rewritten at the same byte positions, so they check all of the file. If some
lines still cannot be read, cnlint says which in a `not-analysed` notice (a
note, not a finding) and the rules check the rest of the file.

## Why is this bad?
Code that does not parse will not build or run, and no rule can fully check it.
For Go, TypeScript and JavaScript, tree-sitter recovers from the error and
cnlint's other rules still check the rest of the file; for Python, libcst does
not recover, so no other rule runs on the file until the error is fixed. When
CN001 is not selected, such a file is still reported, as a notice that names
the lines not analysed (or, for Python, that the file was not linted).

## Example
```python
def handler(event:
    return event
```

## Use instead
```python
def handler(event):
    return event
```

## How to fix
Fix the code at the reported position. If the file is intentionally invalid (a
test fixture), exclude it with `exclude` or `per-file-ignores`.
"""


class UnusedSuppression(EngineRule):
    id = "CN002"
    name = "unused-suppression"
    summary = "A `cnlint: ignore` comment suppresses nothing"
    severity = "warning"
    fixable = "safe"
    tags = ("maintainability",)
    languages = languages.ALL
    help = """\
## What it does
Reports `cnlint: ignore[...]`, `cnlint: ignore-next-line[...]` and
`cnlint: ignore-file[...]` comments that suppress no finding, those that name
rule ids that do not exist, and malformed ones: comments meant as a directive
that cnlint does not read, so they suppress nothing (`CNLINT: IGNORE[...]`,
`cnlint ignore[...]`, `cnlint: disable[...]`, `ignore [SEC001]`,
`ignore SEC001`, `ignore[sec001]`, `ignore[SEC001 K8S003]`, a reason after `:`
or without `--`). A comment that only mentions cnlint (`# run cnlint: ...`) is
not one: the word after `cnlint:` must be `ignore` or `disable` (with
`-file`, `-line` or `-next-line`), or `suppress`, `nolint`, `noqa` or `skip`
followed by `[...]` or by nothing.

## Why is this bad?
A stale suppression hides the next real finding on that line, long after the
code it was written for has changed. An unknown id is usually a typo, so the
finding it was meant to silence is still reported (or silenced by accident).
A malformed directive looks as if it silenced a finding, and silences nothing.

## Example
```go
cfg := &tls.Config{MinVersion: tls.VersionTLS12} // cnlint: ignore[SEC001]
```

A malformed directive:
```go
cfg := &tls.Config{InsecureSkipVerify: true} // cnlint: ignore[SEC001]: test server
```

## Use instead
```go
cfg := &tls.Config{MinVersion: tls.VersionTLS12}
```

```go
cfg := &tls.Config{InsecureSkipVerify: true} // cnlint: ignore[SEC001] -- test server
```

## How to fix
Delete the comment, or the ids in it that no longer apply: `cnlint check --fix`
does it (a safe fix). Rules that are not enabled in this run are never
reported as unused. A malformed directive is rewritten to the form cnlint
reads, `cnlint: ignore[ID, ...] -- reason` (also a safe fix); it then
suppresses what it was meant to, or is reported as unused.
"""
