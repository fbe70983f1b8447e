"""cnlint: a linter framework for cloud-native Go, TypeScript/JavaScript and Python.

The public rule API (the same for built-in and custom rules)::

    from cnlint import TreeSitterRule, PythonRule, Rule, Option
"""

from . import languages
from .backends.treesitter import TreeSitterRule, node_text
from .model import Applicability, Edit, Finding, Fix, Location, Notice, Severity, Span
from .rule import EngineRule, Option, Rule

__version__ = "0.1.0"


def __getattr__(name: str):
    # PythonRule needs libcst (a quarter of a second to import): only on use,
    # so Go/TypeScript-only runs and the language server start without it
    if name == "PythonRule":
        from .backends.python import PythonRule

        return PythonRule
    raise AttributeError(f"module 'cnlint' has no attribute {name!r}")


__all__ = [
    "Applicability", "Edit", "EngineRule", "Finding", "Fix", "Location", "Notice", "Option",
    "PythonRule", "Rule", "Severity", "Span", "TreeSitterRule", "languages", "node_text",
    "__version__",
]
