"""SEC001 tls-verification-disabled: the metadata every backend shares.

The checks live next to this module, one per backend:
``tls_verification_go.py`` (tree-sitter, Go), ``tls_verification_js.py``
(tree-sitter, JavaScript/TypeScript/TSX) and ``tls_verification_py.py``
(libcst, Python).
"""

from __future__ import annotations

from cnlint import Rule
from cnlint.code_kinds import SKIP_TEST_FILES, TEST_CODE_HELP, skip_test_files_option


class TlsVerificationDisabled(Rule):
    id = "SEC001"
    name = "tls-verification-disabled"
    summary = "TLS certificate verification is disabled"
    # error only for the process-wide switches (see "Severity" in the help)
    severity = "warning"
    tags = ("security", "cwe-295")
    precision = "high"
    # CVSS 3.1 AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N = 7.4, the usual score for
    # a missing certificate check (CWE-295): a network attacker able to
    # intercept traffic reads and alters it, but has to be on the path first.
    security_severity = 7.4
    fixable = None
    options = {
        SKIP_TEST_FILES: skip_test_files_option(
            True, "tests talk to self-signed test servers and build configs they never dial (as gosec)"),
    }
    help = """\
## What it does
Reports code that turns off verification of the peer's TLS certificate, so
that a connection is encrypted but not authenticated:

- **Go**: `InsecureSkipVerify: true` in a `crypto/tls` `Config` literal
  (`tls.Config{...}`, `&tls.Config{...}`, elided elements of `[]*tls.Config`
  or `map[string]*tls.Config`) and `x.InsecureSkipVerify = true`; client-go's
  `rest.TLSClientConfig{Insecure: true}` (also inside
  `rest.Config{TLSClientConfig: ...}`), `cfg.Insecure = true` and
  `cfg.TLSClientConfig.Insecure = true` on a `*rest.Config`; and
  `InsecureSkipTLSVerify: true` in a kubeconfig `clientcmdapi.Cluster`.
  Import aliases are resolved (`mytls "crypto/tls"`,
  `restclient "k8s.io/client-go/rest"`).
- **JavaScript / TypeScript**: an object literal property
  `rejectUnauthorized: false` (also `0`, `!1`) — the options of
  `https.Agent`, `https.request`, `tls.connect`, axios' `httpsAgent`, got's
  `https: {...}`, undici's `connect: {...}` and so on; the assignment
  `x.rejectUnauthorized = false`; and setting `NODE_TLS_REJECT_UNAUTHORIZED`
  to `'0'` (`process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'`,
  `process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = 0`, or an `env` object
  literal given to a child process).
- **Python** (imports and aliases are resolved): `verify=False` in
  `requests.get/post/put/patch/delete/head/options/request`, `httpx`'s
  functions, `httpx.Client`, `httpx.AsyncClient` and their transports,
  `boto3.client`/`resource` and `hvac.Client`; `verify=False` in the methods
  of a `requests.Session` and of a `boto3` session, and `ssl=False` in those
  of an `aiohttp.ClientSession` (a session created, `with`-bound or annotated
  in the same function, or in the class for `self.session`);
  `session.verify = False` on such a `requests.Session`; any use of
  `ssl._create_unverified_context` (a call, or the global monkey-patch
  `ssl._create_default_https_context = ssl._create_unverified_context`);
  `ctx.verify_mode = ssl.CERT_NONE` on a client context (with the
  `ctx.check_hostname = False` that goes with it shown as a related
  location); `cert_reqs=ssl.CERT_NONE` or `cert_reqs="CERT_NONE"` in any call
  (`urllib3.PoolManager`, `ssl.wrap_socket`, ...) and `{"cert_reqs":
  ssl.CERT_NONE}` (websocket-client's `sslopt`); `x.verify_ssl = False` (the
  kubernetes client's `Configuration`, and every OpenAPI-generated client's);
  `aiohttp.TCPConnector(ssl=False)` and `(verify_ssl=False)`.

Only literal values are reported (`true`, `false`, `False`, `'0'`...): a
setting that comes from a variable or a flag is left alone, and so is a
literal that only runs when the user's setting says so (see below).

## Why is this bad?
Without certificate verification anyone who can intercept the traffic (a
compromised pod or node, a rogue Wi-Fi access point, DNS or BGP hijacking)
can present their own certificate, read everything including bearer tokens and
credentials, and change responses, and neither side notices (CWE-295, Improper
Certificate Validation; OWASP A02/A07). Go's documentation of
[`crypto/tls.Config.InsecureSkipVerify`](https://pkg.go.dev/crypto/tls#Config)
says: "If InsecureSkipVerify is true, crypto/tls accepts any certificate
presented by the server and any host name in that certificate. In this mode,
TLS is susceptible to machine-in-the-middle attacks unless custom verification
is used. This should be used only for testing or in combination with
VerifyConnection or VerifyPeerCertificate." The same holds for Node.js'
`rejectUnauthorized` and `NODE_TLS_REJECT_UNAUTHORIZED` (which turns it off
for the whole process), for client-go's `Insecure` and kubeconfig's
`insecure-skip-tls-verify`, and for Python's `verify=False` and `CERT_NONE`.

Settings like these are added "just for now" to talk to a server with a
self-signed certificate, and then ship.

## Example
```go
client := &http.Client{Transport: &http.Transport{
    TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
}}

kube := &rest.Config{
    Host:            apiServer,
    TLSClientConfig: rest.TLSClientConfig{Insecure: true},
}
```

```typescript
const agent = new https.Agent({ rejectUnauthorized: false });
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
```

```python
resp = requests.get(url, verify=False)

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

configuration = client.Configuration()
configuration.verify_ssl = False
```

## Use instead
Trust the certificate authority that signed the server's certificate:

```go
pool := x509.NewCertPool()
pool.AppendCertsFromPEM(caPEM)
client := &http.Client{Transport: &http.Transport{
    TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
}}

kube := &rest.Config{
    Host:            apiServer,
    TLSClientConfig: rest.TLSClientConfig{CAFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"},
}
```

```typescript
const agent = new https.Agent({ ca: fs.readFileSync("ca.pem") });
// or, for the whole process: NODE_EXTRA_CA_CERTS=/path/to/ca.pem node app.js
```

```python
resp = requests.get(url, verify="/etc/ssl/certs/internal-ca.pem")

ctx = ssl.create_default_context(cafile="/etc/ssl/certs/internal-ca.pem")

configuration = client.Configuration()
configuration.ssl_ca_cert = "/etc/ssl/certs/cluster-ca.pem"
```

## How to fix
Remove the setting, and if the server uses a private or self-signed
certificate, add its CA instead: `RootCAs` in Go (`x509.CertPool`),
`CAFile`/`CAData` in client-go's `rest.TLSClientConfig` (in a pod,
`rest.InClusterConfig()` already does this), `ca` or `NODE_EXTRA_CA_CERTS` in
Node.js, `verify="/path/ca.pem"` or `REQUESTS_CA_BUNDLE` for requests,
`verify=ssl.create_default_context(cafile=...)` for httpx, `ssl_ca_cert` for
the kubernetes client. For a server whose name does not match its certificate,
fix the certificate or set the expected name (`ServerName` in Go,
`servername` in Node.js).

What is not reported:

- A Go `tls.Config` that also sets `VerifyPeerCertificate` or
  `VerifyConnection` (in the same literal, or on the same variable in the same
  function): that is custom verification (certificate pinning, SPIFFE IDs),
  the combination the Go documentation allows outside tests.
- `rejectUnauthorized: false` in *server* options (an argument of
  `createServer`/`createSecureServer`, or an object that also sets
  `requestCert` or `isServer: true`): there it only makes client
  certificates optional.
- `verify_mode = ssl.CERT_NONE` on a server context
  (`ssl.Purpose.CLIENT_AUTH`, `PROTOCOL_TLS_SERVER`), where it means "do not ask
  for client certificates", and `ssl.CERT_NONE` in comparisons. A
  `check_hostname = False` on its own is not reported either; next to a
  reported `verify_mode = ssl.CERT_NONE` it is shown as a related location.
- `verify=False` on functions that are not known HTTP clients
  (`jwt.decode(token, verify=False)` means something else), and
  `x.verify = False` when `x` is not known to be a `requests.Session`. An
  httpx client's `client.verify = False` is not reported either: httpx only
  reads `verify` when the client is built, so the assignment does nothing.
- A Go struct literal of any other type, even with a field named `Insecure`
  or `InsecureSkipVerify` (gRPC options, your own `Options`), and
  `x.Insecure = true` unless `x` is known to be a client-go rest config. The
  field name `InsecureSkipVerify` is specific enough that
  `x.InsecureSkipVerify = true` is reported unless `x` is declared in the
  function (or file) with a type other than `tls.Config`.
- Values that are not literals (`InsecureSkipVerify: *insecureFlag`,
  `verify=ca_bundle`, `rejectUnauthorized: opts.strict`).
- **The user's explicit setting.** A literal inside an `if` (or a ternary)
  whose condition is a setting that says "do not verify": a name or a string
  (flag, option, config field, environment variable) with insecure /
  skip-verify / no-verify / disable-TLS-check in it
  (`if self.insecure:`, `if (cluster.skipTLSVerify)`,
  `if cfg.InsecureSkipTLSVerify {`,
  `if os.getenv("SKIP_TLS_VERIFY") == "true":`,
  `if v.GetBool("insecure-skip-tls-verify") {`), or a verification setting
  tested for false (`if not verify_ssl:`, `if (!opts.strictSSL)`,
  `if tls_certificate is False:`, and the `else` of `if verify`); also the
  code after such an `if` that returns (`if !cfg.Insecure { return secure }`
  followed by the insecure config). A client
  library that honours its user's choice this way does what
  `InsecureSkipVerify: cfg.Insecure` does, and that is not a defect. A
  condition on anything else (`if tlsEnabled`, `if err != nil`, an automatic
  retry after an `x509` error) does not count.
- A Go function that dials TLS only to read the server's certificate
  (`tls.Dial`/`DialWithDialer`/`Client` and `ConnectionState().PeerCertificates`,
  with no `Write`/`Do`/`Get`/`Post`/`RoundTrip` in the function): it trusts
  nothing the peer sends.

## Severity
The rule sees the literal, not the peer: a hard-coded setting in one client
may talk to the loopback interface or to a development server, which only
the reader can judge, so those findings are **warnings**. The process-wide
switches are **errors**, because they turn verification off for every
connection of the process, third-party ones included:
`NODE_TLS_REJECT_UNAUTHORIZED = '0'` (also in the `env` given to a child
process) and `ssl._create_default_https_context = ssl._create_unverified_context`.

If the connection really must skip verification (a local development tool
talking to localhost), suppress the finding with a reason:
`// cnlint: ignore[SEC001] -- dev-only, talks to localhost`.
""" + TEST_CODE_HELP

