"""SEC002 token-verification-disabled: the metadata every backend shares.

Checks: ``token_verification_go.py`` (tree-sitter, Go: go-oidc, golang-jwt,
jwx, go-jose) and ``token_verification_py.py`` (libcst, Python: PyJWT,
python-jose).
"""

from __future__ import annotations

import re

from cnlint import Rule
from cnlint.code_kinds import SKIP_TEST_FILES, skip_test_files_option

#: A function whose name says it reads a token without verifying it documents
#: the choice, like the libraries' own ``get_unverified_claims``.
UNVERIFIED_NAME = re.compile(r"unverified|insecure|unsafe|no_?verif|without_?verif|skip_?\w*(check|verif|valid)"
                             r"|peek|guess|inspect|debug", re.IGNORECASE)
#: A function whose name says it derives the caller's identity or permissions from a token.
IDENTITY_NAME = re.compile(r"authenticat|authoriz|middleware|current_?user|get_?user|to_?user|user_?(id|from|info)"
                           r"|from_?token|whoami|is_?admin|has_?(role|perm)|check_?(role|perm|access)"
                           r"|require_?(role|perm|auth)|principal|identity", re.IGNORECASE)
#: Text of a token expression that shows it comes from an incoming request.
REQUEST_TOKEN = re.compile(r"header|cookie|authorization|bearer|formvalue|META|request\.|\br\.|\breq\.",
                           re.IGNORECASE)


class TokenVerificationDisabled(Rule):
    id = "SEC002"
    name = "token-verification-disabled"
    summary = "A JWT or OIDC ID token is accepted without verifying its signature or claims"
    severity = "error"
    tags = ("security", "cwe-347", "cwe-287", "authentication")
    # measured 0.85 on real code (docs/precision/network.md): some flags are
    # legitimate in code that cannot be told apart syntactically (a token CLI)
    precision = "medium"
    # CVSS 3.1 AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N = 9.1 for a forged token
    # accepted by an API; 8.1 (AC:H: the attacker needs a token the provider
    # issued, for another client or one that expired) for the claim checks.
    # The rule reports both kinds, so it carries the lower score.
    security_severity = 8.1
    options = {
        SKIP_TEST_FILES: skip_test_files_option(True, "tests decode the tokens they just minted"),
    }
    help = """\
## What it does
Reports code that accepts a JSON Web Token or an OpenID Connect ID token
without checking that it is authentic and meant for this service:

- **Go**, [go-oidc](https://pkg.go.dev/github.com/coreos/go-oidc/v3/oidc#Config):
  `oidc.Config{InsecureSkipSignatureCheck: true}`, `SkipExpiryCheck: true`,
  `SkipIssuerCheck: true` and `SkipClientIDCheck: true` (in the literal, or
  `cfg.SkipExpiryCheck = true`).
- **Go**, [golang-jwt](https://pkg.go.dev/github.com/golang-jwt/jwt/v5)
  (and `dgrijalva/jwt-go`): `ParseUnverified(...)`,
  `jwt.WithoutClaimsValidation()` given to a parser that `Parse`s, and
  `jwt.Parser{SkipClaimsValidation: true}`; [jwx](https://pkg.go.dev/github.com/lestrrat-go/jwx/v2/jwt):
  `jwt.ParseInsecure(...)`, `jwt.WithVerify(false)`, `jwt.WithValidate(false)`;
  go-jose: `UnsafeClaimsWithoutVerification(...)`.
- **Python**, [PyJWT](https://pyjwt.readthedocs.io/en/stable/usage.html#reading-the-claimset-without-validation)
  and python-jose (`jwt.decode`, `jwt.decode_complete`, `jose.jwt.decode`):
  `options={"verify_signature": False}`, the old `verify=False`,
  `algorithms=["none"]`, and — reported with their own, less severe message —
  `options={"verify_exp": False}` and `{"verify_aud": False}`; python-jose's
  `jws.verify(..., verify=False)`.

The explicit readers `jwt.get_unverified_header` (PyJWT) and
`jwt.get_unverified_claims`/`get_unverified_header` (python-jose) are **not**
reported: reading the header (`kid`, `alg`) before verifying is how a key is
chosen, and the names say what they do. Go's `ParseUnverified` is reported
although it is just as explicit, because in Go it is the only way to read
claims without a key and the usual way signature checks get lost (CodeQL's
`go/missing-jwt-signature-check` flags it too); the message explains when it
is fine.

## Why is this bad?
A token is a claim signed by an issuer. Without the signature check anyone can
write a token with any `sub`, `email`, `groups` or `role` (the `alg: none`
attack, CWE-347) and the service believes it. Without `exp`, a token that
leaked once (logs, a browser history, a former employee) works forever; without
`aud` (go-oidc's client ID check), a token the same provider issued to *another*
application — one an attacker controls — is accepted as a login to yours (token
substitution, CWE-287); without `iss`, tokens of any issuer sharing the keys
are. The [OpenID Connect Core](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)
specification requires a relying party to check all of these, and the
[go-oidc documentation](https://pkg.go.dev/github.com/coreos/go-oidc/v3/oidc#Config)
warns that `InsecureSkipSignatureCheck` "should only be used in special cases".

## Example
```go
verifier := provider.Verifier(&oidc.Config{ClientID: clientID, SkipExpiryCheck: true})

token, _, err := jwt.NewParser().ParseUnverified(raw, &claims)
if claims.Role == "admin" { ... }
```

```python
claims = jwt.decode(token, options={"verify_signature": False})
claims = jwt.decode(token, key, algorithms=["HS256", "none"])
```

## Use instead
```go
verifier := provider.Verifier(&oidc.Config{ClientID: clientID})
idToken, err := verifier.Verify(ctx, rawIDToken)

token, err := jwt.ParseWithClaims(raw, &claims, keyFunc,
    jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience("my-api"))
```

```python
claims = jwt.decode(token, key, algorithms=["RS256"], audience="my-api")
```

## How to fix
Verify with the issuer's keys (a JWKS: `oidc.NewRemoteKeySet`,
`jwt.PyJWKClient`, `keyfunc`), pin the algorithms you expect, and keep the
expiry, audience and issuer checks; allow a little clock skew with a leeway
(`jwt.WithLeeway`, `leeway=`) instead of switching expiry checks off.

When reading a token without verifying it is right — picking the key or the
issuer (`iss`, `kid`) before verifying the same token, reading the expiry of a
token your own code minted to decide when to refresh it — keep it visible:
verify the same token in the same function (then cnlint stays quiet), put the
read in a helper named for it (`parseUnverifiedClaims`, `peek_claims`), or
suppress the finding with a reason (`// cnlint: ignore[SEC002] -- only reads
exp of our own token`).

What is not reported:

- Flags that are not literals (`SkipExpiryCheck: cfg.SkipExpiry`,
  `options=opts` when `opts` is not a dict literal in the same scope).
- Reading claims without verification (`ParseUnverified`, `ParseInsecure`,
  `UnsafeClaimsWithoutVerification`, `WithVerify(false)`, `jwt.decode`
  without signature check) unless the claims decide who the caller is: the
  token comes from an incoming request (a `*http.Request`, gin/echo/fiber
  context or `request` parameter, a header, a cookie, gRPC incoming metadata),
  or the function's name says it derives an identity (`getUserIDFromToken`,
  `current_user`, `authenticate`, `isAdmin`, `middleware`...). A CLI reading
  the token it stored, or a client reading the expiry of its own token, is not
  an identity decision.
- Such reads when the same function also verifies the same token
  (`jwt.Parse(raw, ...)`, `verifier.Verify(ctx, raw)`, a verifying
  `jwt.decode(raw, key, ...)`), when the token is a local variable the function
  minted itself (`Sign...`, `Create...`, `Issue...`), and any finding inside a
  function whose name says it does not verify (`unverified`, `insecure`,
  `unsafe`, `peek`, `guess`, `inspect`, `debug`, `WithSkipExpiryCheck`...).
- `SkipExpiryCheck: true` in a function about an `id_token_hint` or a logout
  token (OIDC RP-Initiated and Back-Channel Logout allow them to be expired),
  or in a file that checks `IDToken.Expiry` itself (a tolerance go-oidc lacks).
- `SkipClientIDCheck: true` in a file that deals with the audience itself (it
  mentions `Audience`/`"aud"` in code), or given to `oidc.NewVerifier` with a
  key set of its own rather than `oidc.NewRemoteKeySet`: go-oidc requires the
  flag when the verifier has no single client ID, for example an identity
  provider verifying the tokens it issued to all its clients.
- Test files (`*_test.go`, `test_*.py`, files under `tests/`...), which decode
  the tokens they just minted; set `skip-test-files = false` to check them.
"""

