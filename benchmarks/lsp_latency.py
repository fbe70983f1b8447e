"""Language-server latency: start-up, and didOpen/didChange -> publishDiagnostics
for 2,000-line Go, TypeScript and Python files, through a real LSP client (pygls)
over stdio. Prints a markdown table; budget: < 100 ms per update, < 1 s start-up.

    python benchmarks/lsp_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

GO_UNIT = '''
func handler{i}(w http.ResponseWriter, r *http.Request) {{
	cfg := &tls.Config{{InsecureSkipVerify: true}}
	_ = cfg
	fmt.Println("request", r.URL.Path, {i})
}}
'''
TS_UNIT = '''
export async function fetch{i}(url: string): Promise<number> {{
  const agent = new https.Agent({{ rejectUnauthorized: false }});
  console.log("fetch", url, {i});
  return {i};
}}
'''
PY_UNIT = '''
def fetch_{i}(url):
    resp = requests.get(url, verify=False, timeout=5)
    print("fetch", url, {i})
    return resp.json()

'''


def make(unit: str, header: str, lines: int = 2000) -> str:
    per = unit.count("\n")
    body = "".join(unit.format(i=i) for i in range(lines // per))
    return header + body


FILES = {
    "main.go": ("go", make(GO_UNIT, 'package main\n\nimport (\n\t"crypto/tls"\n\t"fmt"\n\t"net/http"\n)\n')),
    "app.ts": ("typescript", make(TS_UNIT, 'import https from "https";\n')),
    "jobs.py": ("python", make(PY_UNIT, "import requests\n")),
}


class Client(LanguageClient):
    def __init__(self):
        super().__init__("bench", "1")
        self.queue: asyncio.Queue = asyncio.Queue()

        @self.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diag(params):
            self.queue.put_nowait((time.perf_counter(), params))

        @self.feature(lsp.WINDOW_LOG_MESSAGE)
        def on_log(params):
            pass


async def main(runs: int) -> None:
    root = Path(tempfile.mkdtemp())
    (root / "pyproject.toml").write_text("[tool.cnlint]\n")
    client = Client()
    t0 = time.perf_counter()
    await client.start_io(sys.executable, "-m", "cnlint", "server")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                       root_uri=root.as_uri()))
    client.initialized(lsp.InitializedParams())
    startup = time.perf_counter() - t0
    rows = [("start-up (spawn + initialize)", f"{startup * 1000:.0f} ms", "", "")]
    # The rules load in the background after `initialized`: a first small document
    # waits for them; the 2,000-line files are timed after that ("after start-up").
    warm = root / "warm_up.py"
    warm.write_text("import os\n")
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=warm.as_uri(), language_id="python", version=1,
                                           text=warm.read_text())))
    await client.queue.get()
    rows.append(("first diagnostics after spawn (a 1-line file)",
                 f"{(time.perf_counter() - t0) * 1000:.0f} ms", "", ""))
    for name, (lang, text) in FILES.items():
        path = root / name
        path.write_text(text)
        uri = path.as_uri()
        t = time.perf_counter()
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id=lang, version=1, text=text)))
        done, params = await client.queue.get()
        first = done - t
        n_diag = len(params.diagnostics)
        lines = text.count("\n")
        rows.append((f"{name} ({lines} lines, {n_diag} diagnostics): didOpen", f"{first * 1000:.0f} ms", "", ""))
        version = 1
        # a line added at the top moves every diagnostic; typing in the middle of
        # the file is the common case
        comment = "#" if lang == "python" else "//"
        mid = lines // 2
        mid_end = len(text.split("\n")[mid])  # ASCII: UTF-16 units = characters
        for where, start, insert in (("line added at the top", (0, 0), f"{comment} x\n"),
                                     ("typing mid-file (a comment at a line's end)", None, "")):
            samples = []
            for i in range(runs):
                version += 1
                if start is None:  # one more character of a trailing comment each time
                    pos = lsp.Position(mid + runs, mid_end + (i and len(comment) + 1 + i - 1))
                    insert = f" {comment}" if i == 0 else "x"
                else:
                    pos = lsp.Position(*start)
                t = time.perf_counter()
                client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(start=pos, end=pos), text=insert)]))
                done, params = await client.queue.get()
                samples.append(done - t)
            rows.append((f"{name}: didChange, {where}", f"{statistics.median(samples) * 1000:.0f} ms",
                         f"{max(samples) * 1000:.0f} ms", f"{runs}"))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    print("| measurement | median | max | runs |\n|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    asyncio.run(main(ap.parse_args().runs))
