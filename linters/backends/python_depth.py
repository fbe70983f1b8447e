"""How deep a Python file nests, measured before libcst parses it.

libcst's native parser recurses once per level of nesting and crashes the
process (SIGSEGV) on deep input: 1,500 nested parentheses or a 10,000-branch
``elif`` chain. Long operator and postfix chains do not crash it as early but
take super-linear time: on libcst 1.9, 1,000 ``+`` terms parse in ~1 s, 4,000
in ~60 s, and a 1,000-long ``a.b()`` chain (2,000 operators) in ~12 s. So a
file over one of these limits is not given to libcst at all (the engine asks
CPython's parser for a syntax error, else skips the file with a notice).

The measure is a scan of the text with one regular expression (strings and
comments skipped): the bracket depth, the operators in one expression (the
count restarts at ``,`` ``;`` ``=`` and at the end of a statement, and the
counts of the enclosing brackets add up), and the ``elif`` branches of one
``if`` statement.
"""

from __future__ import annotations

import re

# CPython rejects more than 200 nested brackets ("too many nested parentheses").
MAX_BRACKETS = 200
# Operators (binary, unary, boolean, `.`, call and subscript brackets,
# implicitly joined strings) nested in one expression: ~2 s of parsing at worst.
MAX_CHAIN = 1200
# One libcst `If` per branch: 3,000 parse in 0.2 s; the parser crashes near 10,000.
MAX_ELIF = 3000

# One character class, so the regular expression engine finds the tokens
# quickly; strings and comments are then skipped with anchored searches.
_TOKEN = re.compile(r"[\"'#(\[{)\]},;=\n\\]")
_STRING_END = {}
for _q in ('"', "'"):
    _STRING_END[_q] = re.compile(rf"(?:[^\\\n{_q}]|\\.)*(?:{_q}|(?=\n)|$)", re.DOTALL)  # unclosed: ends at the line
    _STRING_END[_q * 3] = re.compile(rf"(?:[^\\{_q}]|\\.|{_q}(?!{_q * 2}))*(?:{_q * 3}|$)", re.DOTALL)
_NOT_ASSIGNMENT = frozenset("=!<>:+-*/%@|&^~")
_OPERATOR_CHARS = str.maketrans("", "", "-+*/%@|&^~<>.")
_OPERATOR_WORDS = re.compile(r"\b(?:and|or|not|if|else|lambda|await|in|is)\b")
_ELIF_LINE = re.compile(r"^([ \t]*)(elif\b|[^ \t\r\n#])", re.MULTILINE)


def too_deep(text: str) -> tuple[str, int, int] | None:
    """``(what, measured, limit)`` when ``text`` nests deeper than libcst can
    parse safely and quickly, else None."""
    if text.count("elif") > MAX_ELIF:
        n = _longest_elif_chain(text)
        if n > MAX_ELIF:
            return "elif branches in one if statement", n, MAX_ELIF
    # The code between two tokens is not read one operator at a time (too
    # slow): its length bounds the operators it holds, and it is counted only
    # when that bound passes the limit.
    counts = [0]  # operators counted at each open bracket level, outermost first
    stretches: list[list[tuple[int, int]]] = [[]]  # not yet counted, per level
    bound = 0  # operators counted + characters not yet counted, all levels
    start = 0  # where the code not yet seen begins
    search = _TOKEN.search
    n = len(text)
    i = 0
    while True:
        m = search(text, i)
        if m is None:
            break
        pos = m.start()
        c = text[pos]
        i = pos + 1
        if pos > start:
            stretches[-1].append((start, pos))
            bound += pos - start
            if bound > MAX_CHAIN:
                bound = _count(text, counts, stretches)
                if bound > MAX_CHAIN:
                    return "operators in one expression", bound, MAX_CHAIN
        start = i
        if c == '"' or c == "'":
            q = c * 3 if text.startswith(c * 3, pos) else c
            end = _STRING_END[q].match(text, pos + len(q))
            i = start = end.end() if end else n  # (an unclosed string ending in a backslash)
        elif c == "#":
            i = start = text.find("\n", pos) % (n + 1)
        elif c == "\\":
            if text.startswith("\n", i) or text.startswith("\r\n", i):
                i = start = text.find("\n", i) + 1  # a continuation line
        elif c in "([{":
            counts[-1] += 1  # a call or subscript is one more link of a chain
            bound += 1
            counts.append(0)
            stretches.append([])
            if len(counts) > MAX_BRACKETS + 1:
                return "nested brackets", len(counts) - 1, MAX_BRACKETS
            if bound > MAX_CHAIN:
                bound = _count(text, counts, stretches)
                if bound > MAX_CHAIN:
                    return "operators in one expression", bound, MAX_CHAIN
        elif c in ")]}":
            if len(counts) > 1:
                bound -= counts.pop() + sum(b - a for a, b in stretches.pop())
        elif c == "=" and (text[pos - 1:pos] in _NOT_ASSIGNMENT or text.startswith("=", i)):
            pass  # a comparison or augmented assignment
        elif c != "\n" or len(counts) == 1:  # , ; = or the end of a statement
            bound -= counts[-1] + sum(b - a for a, b in stretches[-1])
            counts[-1] = 0
            stretches[-1] = []
    return None


def _count(text: str, counts: list[int], stretches: list[list[tuple[int, int]]]) -> int:
    """Count the operators of the pending stretches; the total of all levels."""
    for level, pending in enumerate(stretches):
        for a, b in pending:
            code = text[a:b]
            counts[level] += len(code) - len(code.translate(_OPERATOR_CHARS)) + len(_OPERATOR_WORDS.findall(code))
        pending.clear()
    return sum(counts)


def _longest_elif_chain(text: str) -> int:
    """The most ``elif`` lines in a row at one indentation (bodies in between)."""
    chains: dict[str, int] = {}
    best = 0
    for m in _ELIF_LINE.finditer(text):
        indent, word = m.group(1), m.group(2)
        if word == "elif":
            n = chains[indent] = chains.get(indent, 0) + 1
            best = max(best, n)
        else:
            # a statement at this indentation or shallower ends the chains at or below it
            for k in [k for k in chains if len(k) >= len(indent)]:
                del chains[k]
    return best
