"""``cnlint server``: a Language Server Protocol server (pygls, stdio or TCP).

Lints the editor's unsaved text with the same config resolution and rules as
the CLI, publishes diagnostics on open, change (debounced) and save, offers
each fix as a quick fix, a "suppress with a comment" action for every
diagnostic, ``source.fixAll.cnlint``, and hover with the rule's summary.
Positions are UTF-16 code units, as LSP requires.

Trust (docs/security.md): the server runs none of a repository's code (rule
paths, options that name a program) unless the client passes
``initializationOptions: {"trusted": true}`` (VS Code's Workspace Trust), and
uses no config at all for a document outside the workspace folders.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import re
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from . import __version__, languages
from .config import Config, ConfigError, find_config, load_config, project_root
from .engine import Engine
from .fixes import allowed, fix_file
from .model import Finding, NoticeKind, Severity, Span
from .runner import load

log = logging.getLogger("cnlint.server")

DEBOUNCE_SECONDS = 0.03
FIX_ALL_KIND = "source.fixAll.cnlint"
_SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error, Severity.WARNING: lsp.DiagnosticSeverity.Warning,
             Severity.NOTE: lsp.DiagnosticSeverity.Information}
_LANGUAGE_IDS = {"go": "go", "javascript": "javascript", "javascriptreact": "javascript", "typescript":
                 "typescript", "typescriptreact": "tsx", "python": "python"}


def uri_to_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None


def _pos(line: int, col_utf16: int) -> lsp.Position:
    return lsp.Position(line=line - 1, character=col_utf16 - 1)


def span_range(span: Span) -> lsp.Range:
    return lsp.Range(start=_pos(span.start_line, span.start_column_utf16),
                     end=_pos(span.end_line, span.end_column_utf16))


_ANSWERED = object()  # a request already answered with an error: nothing left to handle
_RULE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_EOL = re.compile(r"\r\n|\r|\n")  # LSP's line ends


class _Protocol(LanguageServerProtocol):
    """pygls only logs a request whose params do not match the LSP types; the
    client then waits forever. Answer it with JSON-RPC's "Invalid params"."""

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if isinstance(data, dict) and "method" in data and data.get("id") is not None:
                self._send_response(data["id"], error=JsonRpcInvalidParams(
                    message=f"invalid params for {data['method']}").to_response_error())
                return _ANSWERED
            raise

    def handle_message(self, message):
        if message is not _ANSWERED:
            super().handle_message(message)


def _open_document(ls: LanguageServer, uri: str):
    """The open document ``uri``; a request about any other is invalid."""
    doc = ls.workspace.text_documents.get(unquote(uri))
    if doc is None:
        raise JsonRpcInvalidParams(message=f"document not open: {uri}")
    return doc


@dataclass
class _Setup:
    """Engine for one config file, rebuilt when the file changes."""

    key: tuple
    engine: Engine | None
    error: str | None


class CnlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("cnlint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                         protocol_cls=_Protocol)
        self._setups: dict[str | None, _Setup] = {}
        self._pending: dict[str, asyncio.Task] = {}
        self.results: dict[str, list[Finding]] = {}  # uri -> findings of the last lint
        self._diagnostics: dict[str, dict[Finding, lsp.Diagnostic]] = {}  # uri -> finding -> diagnostic
        self.trusted = False  # initializationOptions.trusted: may the workspace's own code run?

    def workspace_roots(self) -> list[str]:
        uris = [f.uri for f in self.workspace.folders.values()] or [self.workspace.root_uri or ""]
        return [p for p in (uri_to_path(u) for u in uris if u) if p]

    def folder_of(self, path: str) -> str | None:
        """The innermost workspace folder holding ``path``, or None (outside every folder)."""
        inside = [r for r in self.workspace_roots()
                  if path == r or path.startswith(r.rstrip(os.sep) + os.sep)]
        return max(inside, key=len) if inside else None

    # ---- configuration ----
    def setup_for(self, path: str) -> _Setup:
        """The engine for ``path``'s config; re-read when the config file changes.

        Config discovery stops at the repository root or the workspace folder,
        whichever is nearer; a document outside every folder gets the built-in
        defaults and no config."""
        directory = os.path.dirname(path)
        folder = self.folder_of(path)
        cfg_path = None
        if folder is not None:
            stop = project_root(directory, cwd=folder)
            if not (stop + os.sep).startswith(folder.rstrip(os.sep) + os.sep):
                stop = folder  # the repository encloses the folder: stay inside the folder
            cfg_path = find_config(directory, stop=stop)
        try:
            stamp = os.stat(cfg_path).st_mtime_ns if cfg_path else 0
        except OSError:
            stamp = -1
        key = (cfg_path, stamp, folder is None, self.trusted)
        slot = cfg_path if folder is not None else ("outside", directory)
        cached = self._setups.get(slot)
        if cached is not None and cached.key == key:
            return cached
        try:
            if cfg_path:
                cfg = load_config(cfg_path)
            else:
                cfg = Config(root=folder or directory, plugins=None if folder else [])
            cfg.trusted = self.trusted and folder is not None
            registry, selection = load(cfg)
            engine = Engine(cfg, registry, selection, cwd=cfg.root)
            engine.documents = {}  # re-parse only what an edit changed
            setup = _Setup(key, engine, None)
            for n in registry.notices:
                kind = lsp.MessageType.Error if n.is_error else lsp.MessageType.Warning
                self.window_log_message(lsp.LogMessageParams(kind, f"cnlint: {n.path}: {n.message}"))
        except ConfigError as e:
            setup = _Setup(key, None, str(e))
            self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, f"cnlint: {e}"))
        self._setups[slot] = setup
        return setup

    # ---- linting ----
    def lint(self, uri: str) -> list[lsp.Diagnostic]:
        doc = self.workspace.get_text_document(uri)
        path = uri_to_path(uri)
        language = _LANGUAGE_IDS.get(doc.language_id or "") or (languages.detect(path) if path else None)
        if path is None or language is None:
            return []
        setup = self.setup_for(path)
        if setup.engine is None:
            return []
        data = doc.source.encode("utf-8")
        limit = setup.engine.cfg.editor_max_file_size
        if limit and len(data) > limit:
            # a huge document would block the server for seconds on every change
            self.window_log_message(lsp.LogMessageParams(lsp.MessageType.Warning, (
                f"cnlint: {os.path.basename(path)} not linted: {len(data)} bytes, larger than "
                f"editor-max-file-size ({limit} bytes)")))
            self.results[uri] = []
            self._diagnostics[uri] = {}
            return []
        result = setup.engine.check(path, language, data)
        for n in result.notices:
            kind = lsp.MessageType.Error if n.is_error else lsp.MessageType.Info \
                if n.kind == NoticeKind.NOT_ANALYSED else lsp.MessageType.Warning
            self.window_log_message(lsp.LogMessageParams(kind, f"cnlint: {n.message}"))
        self.results[uri] = result.findings
        # An edit changes few findings: reuse the Diagnostic of every finding that
        # is exactly as before (building 300 lsprotocol objects costs 20-30 ms).
        before = self._diagnostics.get(uri, {})
        now: dict[Finding, lsp.Diagnostic] = {}
        out = []
        for f in result.findings:
            try:
                d = before.get(f) or self.diagnostic(uri, f)
                now[f] = d
            except TypeError:  # an unhashable value in a finding (custom rule data)
                d = self.diagnostic(uri, f)
            out.append(d)
        self._diagnostics[uri] = now
        return out

    def diagnostic(self, uri: str, f: Finding) -> lsp.Diagnostic:
        info = None
        for setup in self._setups.values():
            if setup.engine is not None and f.rule_id in setup.engine.registry.rules:
                info = setup.engine.registry.rules[f.rule_id]
                break
        return lsp.Diagnostic(
            range=span_range(f.span),
            message=f.message,
            severity=_SEVERITY[f.severity],
            code=f.rule_id,
            code_description=lsp.CodeDescription(href=info.meta.docs_url()) if info else None,
            source="cnlint",
            related_information=[
                lsp.DiagnosticRelatedInformation(
                    location=lsp.Location(uri=_uri_for(uri, r.path), range=span_range(r.span)), message=r.message)
                for r in f.related] or None,
            data={"fingerprint": f.fingerprint or None, "fix": f.fix.applicability.value if f.fix else None},
        )

    def publish(self, uri: str) -> None:
        try:
            diagnostics = self.lint(uri)
        except Exception as e:  # never take the editor down
            log.exception("lint failed")
            self.window_log_message(lsp.LogMessageParams(lsp.MessageType.Error, f"cnlint crashed: {e!r}"))
            diagnostics = []
        version = self.workspace.get_text_document(uri).version
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def schedule(self, uri: str, delay: float) -> None:
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()

        async def later() -> None:
            await asyncio.sleep(delay)
            self._pending.pop(uri, None)
            self.publish(uri)

        self._pending[uri] = asyncio.ensure_future(later())

    def finding_at(self, uri: str, diag: lsp.Diagnostic) -> Finding | None:
        for f in self.results.get(uri, []):
            if f.rule_id == diag.code and span_range(f.span) == diag.range:
                return f
        return None

    def fixed_text(self, uri: str) -> str | None:
        """The document with all safe fixes applied, or None when nothing changes."""
        doc = self.workspace.get_text_document(uri)
        path = uri_to_path(uri)
        language = languages.detect(path) if path else None
        setup = self.setup_for(path) if path else None
        if not language or setup is None or setup.engine is None:
            return None
        out = fix_file(setup.engine, path, language, unsafe=False, original=doc.source.encode("utf-8"))
        return out.fixed.decode("utf-8") if out.changed else None


def _warm_up() -> None:
    try:
        importlib.import_module(__package__ + ".backends.python")  # libcst
        load(Config(root=os.getcwd()))
    except Exception:  # the first lint will report whatever this hit
        log.debug("warm-up failed", exc_info=True)


def _uri_for(base_uri: str, path: str) -> str:
    if os.path.isabs(path):
        from .reporters.sarif import file_uri

        return file_uri(path)  # percent-encoded: a space or "#" in a name is not a valid URI
    return base_uri


def _whole_document(text: str) -> lsp.Range:
    lines = _EOL.split(text)
    return lsp.Range(start=lsp.Position(0, 0),
                     end=lsp.Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2))


def suppression_edit(text: str, line0: int, rule_id: str, language: str) -> lsp.TextEdit:
    """Append ``cnlint: ignore[ID]`` to the line, or add the id to an existing one."""
    lines = _EOL.split(text)
    line = lines[line0] if line0 < len(lines) else ""
    m = re.search(r"cnlint:\s*ignore\[([^\]]*)\]", line)
    if m:
        ids = [i.strip() for i in m.group(1).split(",") if i.strip()] + [rule_id]
        start = len(line[: m.start(1)].encode("utf-16-le")) // 2
        end = len(line[: m.end(1)].encode("utf-16-le")) // 2
        return lsp.TextEdit(range=lsp.Range(lsp.Position(line0, start), lsp.Position(line0, end)),
                            new_text=", ".join(ids))
    leader = "#" if language == "python" else "//"
    col = len(line.rstrip("\r").encode("utf-16-le")) // 2
    return lsp.TextEdit(range=lsp.Range(lsp.Position(line0, col), lsp.Position(line0, col)),
                        new_text=f"  {leader} cnlint: ignore[{rule_id}]")


def create_server() -> CnlintServer:
    server = CnlintServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: CnlintServer, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        ls.trusted = isinstance(options, dict) and options.get("trusted") is True
        if not ls.trusted:
            log.info("workspace not trusted: rule-paths and toolchain options are ignored")

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: CnlintServer, params: lsp.InitializedParams) -> None:
        # Answer `initialize` first, then import the rules (and libcst) while the
        # editor opens its first document: imports take the lock the first lint waits on.
        threading.Thread(target=_warm_up, name="cnlint-warm-up", daemon=True).start()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CnlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CnlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        # Leading edge: lint a change at once; when more changes arrive before
        # that lint has started (a burst of keystrokes), wait for a pause.
        uri = params.text_document.uri
        ls.schedule(uri, DEBOUNCE_SECONDS if uri in ls._pending else 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CnlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CnlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.results.pop(params.text_document.uri, None)
        ls._diagnostics.pop(params.text_document.uri, None)
        path = uri_to_path(params.text_document.uri)
        for setup in ls._setups.values():
            if setup.engine is not None and setup.engine.documents and path:
                setup.engine.documents.pop(path, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                          diagnostics=[]))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: CnlintServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        # A config file changed: the stamp check in setup_for re-reads it. A manifest,
        # lockfile or node_modules changed: forget the project facts rules cached.
        from .project import clear_caches

        clear_caches()
        for uri in list(ls.results):
            ls.schedule(uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL_KIND]))
    def code_action(ls: CnlintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        doc = _open_document(ls, uri)
        language = languages.detect(uri_to_path(uri) or "") or "go"
        actions: list[lsp.CodeAction] = []
        only = params.context.only
        want_quickfix = not only or lsp.CodeActionKind.QuickFix in only
        for diag in params.context.diagnostics if want_quickfix else []:
            # only our diagnostics, and only with a rule id to name in the comment
            if diag.source != "cnlint" or not isinstance(diag.code, str) or not _RULE_ID.fullmatch(diag.code):
                continue
            f = ls.finding_at(uri, diag)
            if f is not None and f.fix is not None:  # suggestions too: the user picks them
                edits = [lsp.TextEdit(range=span_range(e.span), new_text=e.text) for e in f.fix.edits]
                actions.append(lsp.CodeAction(
                    title=f"{f.fix.description} ({f.rule_id})" + ("" if f.fix.applicability.value == "safe"
                                                                 else f" [{f.fix.applicability.value}]"),
                    kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag],
                    is_preferred=f.fix.applicability.value == "safe",
                    edit=lsp.WorkspaceEdit(changes={uri: edits})))
            actions.append(lsp.CodeAction(
                title=f"Suppress {diag.code} on this line with a comment",
                kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag],
                edit=lsp.WorkspaceEdit(changes={uri: [
                    suppression_edit(doc.source, diag.range.start.line, str(diag.code), language)]})))
        if not only or any(k in (FIX_ALL_KIND, lsp.CodeActionKind.SourceFixAll, lsp.CodeActionKind.Source)
                           for k in only):
            if any(allowed(f, False) for f in ls.results.get(uri, [])):
                fixed = ls.fixed_text(uri)
                if fixed is not None:
                    actions.append(lsp.CodeAction(
                        title="cnlint: fix all safe fixes", kind=FIX_ALL_KIND,
                        edit=lsp.WorkspaceEdit(changes={uri: [
                            lsp.TextEdit(range=_whole_document(doc.source), new_text=fixed)]})))
        return actions

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: CnlintServer, params: lsp.HoverParams) -> lsp.Hover | None:
        line = params.position.line + 1
        for f in ls.results.get(params.text_document.uri, []):
            if f.span.start_line <= line <= f.span.end_line:
                setup = next((s for s in ls._setups.values()
                              if s.engine and f.rule_id in s.engine.registry.rules), None)
                meta = setup.engine.registry.rules[f.rule_id].meta if setup else None
                text = f"**{f.rule_id}** `{f.rule_name}`: {meta.summary if meta else f.message}"
                if meta:
                    text += f"\n\n[{f.rule_id} documentation]({meta.docs_url()})"
                return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))
        return None

    return server


def serve(tcp: str | None = None) -> None:
    server = create_server()
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
