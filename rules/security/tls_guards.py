"""SEC001: is a literal "verification off" the user's explicit choice?

A client library that honours its user's setting writes the literal under a
condition on that setting: ``if self.insecure: ctx.verify_mode = CERT_NONE``,
``if (cluster.skipTLSVerify) opts.rejectUnauthorized = false``,
``if cfg.InsecureSkipVerify { tc.InsecureSkipVerify = true }``. That is the
same as assigning the flag itself (``InsecureSkipVerify: cfg.Insecure``),
which the rule never reports.

The backends find the conditions around a finding (``if``, ternaries, and an
earlier ``if`` that returns, whose ``else`` is the rest of the block) and ask
:func:`guarded_branches` which of their branches run only when a setting says
"do not verify". The test is on the words of the condition, whatever the
language:

- a name or a string (a flag or config key, an environment variable) saying
  insecure / skip-verify / no-verify / disable-TLS-check...: both branches,
  since ``if insecure { ... } else { ... }`` is the user's choice either way;
- a name of a verification setting (``verify_ssl``, ``tlsVerify``,
  ``strictSSL``, ``tls_certificate``...) tested for false (``!x``, ``not x``,
  ``x is False``, ``x == false``): the branch taken when it is off ("then"),
  and when tested as it is (``if verify {...} else {...}``) the other one.
"""

from __future__ import annotations

import re

#: a setting whose name says "do not verify" (camelCase is lower-cased first: skipTLSVerify -> skiptlsverify)
INSECURE = re.compile(
    r"insecure|unverified|unsafe[\W_]*(?:ssl|tls)"
    r"|skip[\W_]*(?:tls|ssl|cert\w*?)?[\W_]*verif"
    r"|(?:no|disable|disabled|skip|ignore|without|dont)[\W_]*(?:tls|ssl|cert|verif|valid|check[\W_]*cert)"
    r"|trust[\W_]*all|allow[\W_]*self[\W_]*signed|accept[\W_]*(?:any|all|invalid)[\W_]*cert"
)
#: a setting whose name says "verify" (off when tested for false)
VERIFY = re.compile(
    r"verif|validat|strict[\W_]*(?:ssl|tls)|reject[\W_]*unauthori"
    r"|(?:tls|ssl)[\W_]*cert|cert[\W_]*check|check[\W_]*cert"
)

_TOKEN = re.compile(r"""(?P<name>[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)|"(?P<dq>[^"\\\n]*)"|'(?P<sq>[^'\\\n]*)'""")
_NEGATED_BEFORE = re.compile(r"(?:!|\bnot)[\s(]*$")
_FALSE_AFTER = re.compile(r"^[\s)]*(?:is\s+False\b|===?\s*(?:false|False)\b|!==?\s*true\b|is\s+not\s+True\b)")

THEN, ELSE = "then", "else"


def guarded_branches(condition: str) -> set[str]:
    """The branches of ``if condition`` that run only on the user's "do not verify" setting."""
    out: set[str] = set()
    for m in _TOKEN.finditer(condition):
        name = m.group("name")
        word = (name or m.group("dq") or m.group("sq") or "").lower()
        if INSECURE.search(word):
            return {THEN, ELSE}
        if name is not None and VERIFY.search(word):
            off = _NEGATED_BEFORE.search(condition[:m.start()]) or _FALSE_AFTER.match(condition[m.end():])
            out.add(THEN if off else ELSE)
    return out


#: tree-sitter nodes that branch on a condition (Go, JavaScript/TypeScript)
_BRANCHING = ("if_statement", "ternary_expression")


def under_users_setting(node, stop_types) -> bool:
    """Whether a tree-sitter ``node`` runs only on the user's "do not verify"
    setting: some ``if``/ternary around it, up to the enclosing function
    (``stop_types``), branches on such a setting towards ``node``."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in stop_types:
        if parent.type in _BRANCHING:
            cond = parent.child_by_field_name("condition")
            branch = _branch(parent, child)
            if cond is not None and branch is not None and _guards(cond, branch):
                return True
        if _after_early_exit(child):
            return True
        child, parent = parent, parent.parent
    return False


def _guards(cond, branch: str) -> bool:
    return branch in guarded_branches(cond.text.decode("utf-8", "replace"))


def _after_early_exit(statement) -> bool:
    """``if !cfg.Insecure { return secure }`` before ``statement``: the code after it
    runs only on the user's "do not verify" setting (the ``else`` of the ``if``)."""
    sib = statement.prev_named_sibling
    while sib is not None:
        if sib.type == "if_statement" and sib.child_by_field_name("alternative") is None:
            cond = sib.child_by_field_name("condition")
            if cond is not None and _exits(sib.child_by_field_name("consequence")) and _guards(cond, ELSE):
                return True
        sib = sib.prev_named_sibling
    return False


_EXITS = ("return_statement", "throw_statement")


def _exits(block) -> bool:
    """Whether a block (or a single statement) ends in ``return`` or ``throw``."""
    last = block
    while last is not None and last.type not in _EXITS and last.named_child_count:
        last = last.named_children[-1] if last.type in ("block", "statement_block", "statement_list") else None
    return last is not None and last.type in _EXITS


def _branch(branching, child) -> str | None:
    if child == branching.child_by_field_name("consequence"):
        return THEN
    if child == branching.child_by_field_name("alternative"):
        return ELSE
    return None  # the condition itself
