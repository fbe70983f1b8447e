"""NET001 http-client-without-timeout: the metadata every backend shares.

Checks: ``http_timeout_go.py`` (tree-sitter, Go) and ``http_timeout_py.py``
(libcst, Python).
"""

from __future__ import annotations

import re

from cnlint import Option, Rule
from cnlint.code_kinds import SKIP_TEST_FILES, TEST_CODE_HELP, skip_test_files_option

TIMEOUT = "timeout"
CLIENT_LITERALS = "client-literals"

#: fakes and test doubles declared in production files (NewFakeClient, mockServer, class FakeSession, fake_get)
TEST_DOUBLE = re.compile(r"^_?(?:[Nn]ew)?(?:Fake|Mock|Stub|fake|mock|stub)(?:[A-Z_]|$)")


class HttpClientWithoutTimeout(Rule):
    id = "NET001"
    name = "http-client-without-timeout"
    summary = "An outgoing HTTP request has no timeout and can block forever"
    severity = "warning"
    tags = ("reliability", "network", "cwe-400")
    precision = "high"
    fixable = "unsafe"
    options = {
        TIMEOUT: Option(10, "seconds used by the fix (`Timeout: 10 * time.Second`, `timeout=10`)"),
        SKIP_TEST_FILES: skip_test_files_option(True, "tests talk to local test servers"),
        CLIENT_LITERALS: Option(False, "also report Go `http.Client` values built without a `Timeout` "
                                       "(`&http.Client{...}`, `new(http.Client)`); off by default, see "
                                       "\"Client literals\" below"),
    }
    help = """\
## What it does
Reports outgoing HTTP requests that can wait forever for an answer:

- **Go** (`net/http`, import aliases resolved): the package helpers
  `http.Get`, `http.Post`, `http.Head` and `http.PostForm`, and
  `http.DefaultClient.Do/Get/Post/Head/PostForm`, also through a variable
  that holds nothing else (`client := http.DefaultClient` ... `client.Do(req)`)
  — they all use `http.DefaultClient`, which has no timeout; and, when the
  option `client-literals` is on, `http.Client` literals (`&http.Client{...}`,
  `http.Client{...}`, `new(http.Client)`) without a `Timeout` field.
- **Python**: `requests.get/post/put/patch/delete/head/options/request(...)`
  without `timeout=`, the same methods on a `requests.Session` created in the
  same function or class (`s = requests.Session()`, `with requests.Session()
  as s`, `self.session = requests.Session()`), and an explicit `timeout=None`.
  httpx has a default timeout (5 seconds), so for httpx only an explicit
  `timeout=None` (or `httpx.Timeout(None)`) is reported, on the functions,
  `httpx.Client`/`httpx.AsyncClient` and their methods.

## Why is this bad?
Without a timeout a request to a server that accepts the connection but never
answers (overloaded, stuck in GC, a half-open connection after a node or NAT
failure, a load balancer that drops packets) blocks for ever. The goroutine or
worker thread, its connection and everything the caller holds stay taken; in a
service every request that hits the slow dependency piles up until the pod runs
out of workers, memory or file descriptors, and a slow dependency becomes an
outage (CWE-400, uncontrolled resource consumption).

Go's documentation of [`http.Client`](https://pkg.go.dev/net/http#Client)
says: "Timeout specifies a time limit for requests made by this Client ... A
Timeout of zero means no timeout", and `DefaultClient`, used by `http.Get`,
is a zero `Client`. The [requests documentation](https://requests.readthedocs.io/en/latest/user/quickstart/#timeouts)
says: "Nearly all production code should use this parameter in nearly all
requests. Failure to do so can cause your program to hang indefinitely."
[httpx](https://www.python-httpx.org/advanced/timeouts/) enforces a 5-second
default, which `timeout=None` turns off.

## Example
```go
resp, err := http.Get(url)

client := &http.Client{Transport: transport}
```

```python
resp = requests.get(url)

session = requests.Session()
session.post(url, json=payload)

client = httpx.Client(timeout=None)
```

## Use instead
```go
client := &http.Client{Timeout: 10 * time.Second, Transport: transport}
resp, err := client.Get(url)

// or a deadline per request
ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
defer cancel()
req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
resp, err := client.Do(req)
```

```python
resp = requests.get(url, timeout=10)            # or timeout=(3.05, 27): (connect, read)

session = requests.Session()
session.post(url, json=payload, timeout=10)

client = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
```

## How to fix
Give every client or request an upper bound that suits the call: Go
`http.Client{Timeout: ...}` (it covers connecting, redirects and reading the
body) or a context deadline per request; Python `timeout=` on every requests
call (a `(connect, read)` tuple separates the two; requests has no
session-wide default), a finite timeout for httpx.

The unsafe fix (`cnlint check --fix --unsafe-fixes`) adds the rule option
`timeout` (default 10 seconds): `Timeout: 10 * time.Second` in the Go
`http.Client` literal (and `import "time"` when the file lacks it;
`new(http.Client)` becomes `&http.Client{Timeout: 10 * time.Second}`) and
`timeout=10` in Python calls. It is unsafe because a request that legitimately
takes longer (a large download or upload, a long poll) now fails; pick the
value per call. There is no fix for `http.Get` and `http.DefaultClient`: which
client to use is the caller's choice.

The severity is `warning`: whether an unbounded request is a defect depends on
what waits for it (a CLI a user can interrupt, a goroutine nobody waits for, a
server's request path), which the rule cannot know for certain.

```toml
[options.NET001]
timeout = 30
```

## Client literals
A Go `http.Client` built without `Timeout` is reported only with the option
`client-literals = true`. On the precision ledger
([docs/precision/ledger.md](../precision/ledger.md)) requests through
`http.DefaultClient` and Python calls without `timeout=` were right every time,
but only about half of the client literals were: SDKs and API clients build a
client once and bound every request with the caller's `context` deadline
(often in another package), where a whole-client `Timeout` would also cut
large uploads and downloads. Turn it on for services where every outgoing
call must be bounded by its client:

```toml
[options.NET001]
client-literals = true
```

What is not reported:

- A Go client literal with a `Transport: &http.Transport{...}` literal that
  sets both a dial timeout (`DialContext`/`Dial` with a `net.Dialer` that has
  a `Timeout`) and `ResponseHeaderTimeout`.
- A Go client that gets its `Timeout` elsewhere: `c.Timeout = ...` for its
  variable in the same function; `x.f.Timeout = ...` anywhere in the file for
  the field `f` it is stored in (`client.httpClient.Timeout = client.timeout`
  after the options are applied); `c.Timeout = ...` after `c := newClient()`
  for the function that returns it; `v.Timeout = ...` for a package variable.
- Go requests in a function that builds a deadline (`context.WithTimeout`,
  `context.WithDeadline`, `wait.PollUntilContextTimeout`) and attaches it
  (`http.NewRequestWithContext`, `req.WithContext`, `req.Clone`): the client
  literal or `http.DefaultClient.Do` there is bounded by the context.
- Go requests bound to the request a server is handling: in a function that
  passes `r.Context()` of an HTTP handler's `r *http.Request` (or gin/echo's
  `c.Request.Context()`, or a context derived from it) to
  `http.NewRequestWithContext`/`req.WithContext`, sends `outreq := r.Clone(ctx)`,
  or builds an `httputil.ReverseProxy`. The server cancels them when the client
  goes away or the handler returns, and a proxy should not cut what the
  incoming request allows. (A `RoundTripper`'s request is an outgoing one and
  binds nothing.)
- A client literal that is returned, stored in a field or struct literal, or
  kept in a package variable (a factory, accessor or shared client) when its
  file attaches deadlines, or server requests' contexts, to the requests it
  makes elsewhere.
- Go clients that carry upgraded streams: a function that uses client-go's
  SPDY/WebSocket packages (`spdy.RoundTripperFor`, `spdy.NewDialer`,
  `remotecommand`, `portforward`, `httpstream`), a WebSocket package
  (gorilla, `x/net/websocket`, nhooyr/coder) or sets an `Upgrade` header, and
  a client handed to a dialer, stream, watch or tunnel function (directly or
  through its variable). Exec, attach and port-forward sessions are
  interactive and long-lived: a whole-request `Timeout` would cut them, so the
  rule neither reports them nor offers that fix.
- Python calls that pass `**kwargs` or `*args` (the timeout may be in there), and
  sessions that get a custom adapter mounted (`s.mount(prefix, MyAdapter())`,
  often the place a default timeout is set).
- The package helpers `http.Get`... take no context and are always reported,
  unless the file sets `http.DefaultClient.Timeout`.

Tests: a request without a timeout in a test talks to a local test server and
is not a production defect, so test code is skipped (below). Test doubles
declared in production files are skipped with it: functions named
`NewFake...`, `NewMock...`, `fake...`, `mock...`, `stub...` (`fake_get` in
Python) and the methods of types (Go) or classes (Python) named so.
""" + TEST_CODE_HELP

    def timeout_seconds(self) -> float:
        value = self.options.get(TIMEOUT, 10)
        return value if value > 0 else 10
