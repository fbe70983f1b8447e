"""The language server under deep, huge and slow input (issue 15, items 10 and 14)."""

import asyncio

from conftest import write
from test_server import change_doc, open_doc, session

RULES = '''
from cnlint import PythonRule

class PyEval(PythonRule):
    id = "TST003"; name = "py-eval"; summary = "eval call"
    def visit_Call(self, node):
        if getattr(node.func, "value", None) == "eval":
            self.report(node.func, "eval call")

class Loop(PythonRule):
    id = "TST900"; name = "loop"; summary = "never returns on loop.py"
    def visit_Module(self, node):
        if self.ctx.path.endswith("loop.py"):
            while True:
                pass
'''


def test_deep_huge_and_slow_documents_never_stop_the_server(tmp_path):
    write(tmp_path, {"testrules.py": RULES, "pyproject.toml":
                     '[tool.cnlint]\nrule-paths = ["testrules.py"]\nrule-timeout = 0.3\n'
                     'editor-max-file-size = 300000\n'})
    deep = "if x:\n    pass\n" + "".join(f"elif x == {i}:\n    pass\n" for i in range(10_000)) + "eval(x)\n"
    uris = {name: (tmp_path / name).as_uri() for name in ("deep.py", "huge.py", "loop.py", "ok.py")}

    async def body(client):
        open_doc(client, uris["deep.py"], "eval(x)\n" + "x = " + "(" * 1500 + ")" * 1500 + "\n", "python")
        params = await client.next_diagnostics(uris["deep.py"])
        assert [d.code for d in params.diagnostics] == ["CN001"]  # CPython's error, libcst never saw it
        open_doc(client, uris["huge.py"], "eval(x)\n" * 40_000, "python")  # 320 kB
        assert not (await client.next_diagnostics(uris["huge.py"])).diagnostics  # too large: skipped
        open_doc(client, uris["deep.py"].replace("deep", "elifs"), deep, "python")
        params = await client.next_diagnostics(uris["deep.py"].replace("deep", "elifs"))
        assert not params.diagnostics  # skipped with a logged notice: too deep for libcst
        open_doc(client, uris["loop.py"], "eval(x)\n", "python")
        params = await client.next_diagnostics(uris["loop.py"], timeout=10)
        assert [d.code for d in params.diagnostics] == ["TST003"]  # the looping rule was stopped
        open_doc(client, uris["ok.py"], "eval(x)\n", "python")
        assert [d.code for d in (await client.next_diagnostics(uris["ok.py"])).diagnostics] == ["TST003"]
        change_doc(client, uris["ok.py"], 2, (0, 0), (0, 0), "eval(y)\n")
        assert len((await client.next_diagnostics(uris["ok.py"])).diagnostics) == 2

    asyncio.run(session(tmp_path, body))
