"""Language-server requests with bad params get a JSON-RPC error, never silence,
and code actions never offer to suppress a diagnostic that names no rule.

Driven with raw JSON-RPC: a typed client cannot send ill-typed params."""

import json
import queue
import subprocess
import sys
import threading

import pytest


def _frame(obj) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read(stream):
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return json.loads(stream.read(length))


@pytest.fixture
def server(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "cnlint", "server"], cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    inbox: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [inbox.put(m) for m in iter(lambda: _read(proc.stdout), None)],
                     daemon=True).start()

    def exchange(*messages) -> dict:
        """Send ``messages``; the responses to its requests, by id."""
        for m in messages:
            proc.stdin.write(_frame(m))
        proc.stdin.flush()
        waiting = {m["id"] for m in messages if "id" in m}
        answers = {}
        while waiting - set(answers):
            m = inbox.get(timeout=20)  # queue.Empty: a request left unanswered
            if "id" in m and "method" not in m:
                answers[m["id"]] = m
        return answers

    exchange({"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"capabilities": {}, "rootUri": tmp_path.as_uri()}})
    try:
        yield exchange, tmp_path
    finally:
        exchange({"jsonrpc": "2.0", "id": "end", "method": "shutdown"})
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


_RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}


def test_invalid_params_get_an_error_response(server):
    exchange, root = server
    uri = (root / "a.py").as_uri()
    answers = exchange(
        {"jsonrpc": "2.0", "id": 1, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": uri}}},
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
         "params": {"textDocument": {"uri": 5}, "position": {"line": "x"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeAction",
         "params": {"textDocument": {"uri": (root / "missing.py").as_uri()}, "range": _RANGE,
                    "context": {"diagnostics": []}}},
    )
    for i in (1, 2, 3):
        assert answers[i]["error"]["code"] == -32602, answers[i]  # Invalid params
    # and the server still answers
    assert exchange({"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}})[4]["result"] is None


def test_no_suppress_action_for_a_diagnostic_without_a_rule_id(server):
    exchange, root = server
    uri = (root / "a.py").as_uri()
    exchange({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}}})

    def actions(diagnostic):
        answer = exchange({"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": uri}, "range": _RANGE,
            "context": {"diagnostics": [diagnostic], "only": ["quickfix"]}}})[7]
        return [a["title"] for a in answer["result"]]

    base = {"range": _RANGE, "message": "m", "source": "cnlint"}
    assert actions(base) == []
    assert actions({**base, "code": 42}) == []
    assert actions({**base, "code": "SEC001"}) == ["Suppress SEC001 on this line with a comment"]
