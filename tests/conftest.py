import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from cnlint.cli import main

# Rules used by engine tests, so they do not depend on the built-in packs.
RULES = '''
from cnlint import TreeSitterRule, PythonRule, Option

class GoPrintln(TreeSitterRule):
    id = "TST001"; name = "go-println"; summary = "fmt.Println found"
    languages = ("go",)
    requires = ("Println",)
    query = """(call_expression function: (selector_expression operand: (identifier) @pkg
                field: (field_identifier) @fn) (#eq? @pkg "fmt") (#eq? @fn "Println")) @call"""
    def on_match(self, captures):
        node = captures["call"][0]
        self.report(node, "fmt.Println call", fix=self.fix("use log.Println",
                    self.edit(captures["pkg"][0], "log")))

class JsConsole(TreeSitterRule):
    id = "TST002"; name = "js-console"; summary = "console member"
    languages = ("javascript", "typescript", "tsx")
    def visit_member_expression(self, node):
        if self.text(node.child_by_field_name("object")) == "console":
            self.report(node, "console use")

class PyEval(PythonRule):
    id = "TST003"; name = "py-eval"; summary = "eval call"
    options = {"names": Option(["eval"], "function names to flag")}
    def visit_Call(self, node):
        if getattr(node.func, "value", None) in self.options["names"]:
            self.report(node.func, f"{node.func.value} call")
'''


def write(root, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def counted(monkeypatch):
    """The paths the engine really checks, in order (cache misses)."""
    from cnlint import engine

    calls = []
    real = engine.Engine._check

    def spy(self, result, path, *a, **k):
        calls.append(path)
        return real(self, result, path, *a, **k)

    monkeypatch.setattr(engine.Engine, "_check", spy)
    return calls


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A temporary project with the test rules configured, as the cwd."""
    write(tmp_path, {
        "testrules.py": RULES,
        "pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py"]\nextend-exclude = ["testrules.py"]\n',
    })
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cnlint(*args: str):
    """Run the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def cnlint_subprocess(*args: str, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "cnlint.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
