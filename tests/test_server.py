"""The language server, driven by a real LSP client (pygls) over stdio."""

import asyncio
import sys
import time

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from conftest import RULES, write

GO = 'package main\n\nimport "fmt"\n\n// héllo 😀\nfunc main() { s := "😀"; fmt.Println(s) }\n'


class Client(LanguageClient):
    def __init__(self):
        super().__init__("cnlint-test", "1")
        self.diagnostics: dict[str, asyncio.Queue] = {}

        @self.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: lsp.PublishDiagnosticsParams):
            self.queue(params.uri).put_nowait(params)

        @self.feature(lsp.WINDOW_LOG_MESSAGE)
        def on_log(params):
            pass

        @self.feature(lsp.WINDOW_SHOW_MESSAGE)
        def on_show(params):
            pass

    def queue(self, uri):
        return self.diagnostics.setdefault(uri, asyncio.Queue())

    async def next_diagnostics(self, uri, timeout=20):
        return await asyncio.wait_for(self.queue(uri).get(), timeout)


async def session(tmp_path, body, trusted=True):
    """An LSP session on the workspace ``tmp_path`` (trusted: its rule-paths load)."""
    client = Client()
    await client.start_io(sys.executable, "-m", "cnlint", "server")
    await client.initialize_async(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), root_uri=tmp_path.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=tmp_path.as_uri(), name="t")],
        initialization_options={"trusted": True} if trusted else None))
    client.initialized(lsp.InitializedParams())
    try:
        await body(client)
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.wait_for(client.stop(), 10)


def open_doc(client, uri, text, language_id, version=1):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)))


def change_doc(client, uri, version, start, end, text):
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(*start), end=lsp.Position(*end)), text=text)]))


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path, {"testrules.py": RULES,
                     "pyproject.toml": '[tool.cnlint]\nrule-paths = ["testrules.py"]\n'})
    return tmp_path


def test_diagnostics_code_actions_and_fix_all(workspace):
    uri = (workspace / "main.go").as_uri()
    (workspace / "main.go").write_text(GO)  # on disk: the server must lint the buffer, not this

    async def body(client):
        open_doc(client, uri, GO, "go")
        params = await client.next_diagnostics(uri)
        (d,) = params.diagnostics
        assert d.code == "TST001" and d.source == "cnlint"
        # UTF-16 columns: 'func main() { s := "😀"; ' is 24 code points, 25 UTF-16 units
        assert d.range.start == lsp.Position(line=5, character=25)
        assert d.code_description.href.endswith("TST001.md")
        assert d.severity == lsp.DiagnosticSeverity.Warning

        # lines inserted above move the diagnostic (unsaved buffer)
        change_doc(client, uri, 2, (0, 0), (0, 0), "// new line\n// another\n")
        params = await client.next_diagnostics(uri)
        assert params.diagnostics[0].range.start.line == 7

        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), range=params.diagnostics[0].range,
            context=lsp.CodeActionContext(diagnostics=params.diagnostics)))
        titles = [a.title for a in actions]
        assert "use log.Println (TST001)" in titles
        assert "Suppress TST001 on this line with a comment" in titles
        assert "cnlint: fix all safe fixes" in titles
        quick = next(a for a in actions if a.title.startswith("use log"))
        assert quick.is_preferred
        (edit,) = quick.edit.changes[uri]
        assert edit.new_text == "log" and edit.range.start == lsp.Position(line=7, character=25)
        suppress = next(a for a in actions if a.title.startswith("Suppress"))
        (sedit,) = suppress.edit.changes[uri]
        assert sedit.new_text == "  // cnlint: ignore[TST001]"

        # apply the quick fix as an editor would: the diagnostic disappears
        change_doc(client, uri, 3, (7, 25), (7, 28), "log")
        params = await client.next_diagnostics(uri)
        assert not params.diagnostics

        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(7, 26)))
        assert hover is None

    asyncio.run(session(workspace, body))


def test_broken_code_crashing_rule_and_files_outside_projects(workspace, tmp_path_factory):
    outside = tmp_path_factory.mktemp("loose") / "x.py"
    (workspace / "crash.py").write_text(
        "from cnlint import PythonRule\n"
        "class Boom(PythonRule):\n"
        "    id = 'TST099'; name = 'boom'; summary = 'x'\n"
        "    def visit_Name(self, node):\n"
        "        raise ValueError('boom')\n")
    (workspace / "pyproject.toml").write_text('[tool.cnlint]\nrule-paths = ["testrules.py", "crash.py"]\n')
    uri = (workspace / "a.py").as_uri()

    async def body(client):
        open_doc(client, uri, "x = eval('1')\n", "python")
        params = await client.next_diagnostics(uri)
        assert [d.code for d in params.diagnostics] == ["TST003"]  # survived the crashing rule
        change_doc(client, uri, 2, (0, 0), (0, 0), "def f(:\n")
        params = await client.next_diagnostics(uri)
        assert [d.code for d in params.diagnostics] == ["CN001"]
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(0, 3)))
        assert "CN001" in hover.contents.value and "does not parse" in hover.contents.value
        loose = outside.as_uri()
        open_doc(client, loose, "def g(:\n", "python")
        params = await client.next_diagnostics(loose)
        assert [d.code for d in params.diagnostics] == ["CN001"]

    asyncio.run(session(workspace, body))


def test_config_is_reread_when_it_changes(workspace):
    uri = (workspace / "m.go").as_uri()

    async def body(client):
        open_doc(client, uri, GO, "go")
        assert len((await client.next_diagnostics(uri)).diagnostics) == 1
        time.sleep(0.01)
        (workspace / "pyproject.toml").write_text(
            '[tool.cnlint]\nrule-paths = ["testrules.py"]\nignore = ["TST001"]\n')
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
            lsp.FileEvent(uri=(workspace / "pyproject.toml").as_uri(), type=lsp.FileChangeType.Changed)]))
        assert not (await client.next_diagnostics(uri)).diagnostics

    asyncio.run(session(workspace, body))


def test_untrusted_workspace_runs_no_repository_code(workspace, tmp_path_factory):
    """Without initializationOptions.trusted, rule-paths and toolchain options are
    ignored (built-in rules and the declarative config still apply), and a
    document outside the workspace uses no config at all."""
    marker = workspace / "ran.txt"
    (workspace / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (workspace / "pyproject.toml").write_text(
        '[tool.cnlint]\nrule-paths = ["testrules.py", "evil.py"]\nignore = ["NET001"]\n'
        '[tool.cnlint.options.PERF001]\nmode = "compiler"\ngo = "./tools/go"\n')
    uri = (workspace / "a.py").as_uri()
    loose_dir = tmp_path_factory.mktemp("loose")
    (loose_dir / "cnlint.toml").write_text('ignore = ["SEC001"]\n')
    loose = (loose_dir / "b.py").as_uri()
    src = "import requests\nx = eval('1')\nrequests.get('https://x', verify=False)\n"

    async def body(client):
        open_doc(client, uri, src, "python")
        codes = [d.code for d in (await client.next_diagnostics(uri)).diagnostics]
        assert "SEC001" in codes  # built-in rules run
        assert "TST003" not in codes  # the repository's rule file was not imported
        assert "NET001" not in codes  # its declarative settings still apply
        open_doc(client, loose, src, "python")
        codes = [d.code for d in (await client.next_diagnostics(loose)).diagnostics]
        assert "SEC001" in codes  # no config for a document outside the workspace

    asyncio.run(session(workspace, body, trusted=False))
    assert not marker.exists()
