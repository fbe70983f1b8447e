"""SEC001 on real-world shapes: severities, test code, and the user's explicit setting."""

import json

import pytest

from conftest import cnlint, write
from cnlint.rules.security.tls_guards import ELSE, THEN, guarded_branches


def findings(*paths):
    r = cnlint("check", "--isolated", "--no-cache", "--select", "SEC001", "--format", "json", *paths)
    return json.loads(r.stdout)["findings"]


@pytest.mark.parametrize("condition, branches", [
    ("self.insecure", {THEN, ELSE}),
    ("cluster != null && cluster.skipTLSVerify", {THEN, ELSE}),
    ('os.getenv(SKIP_TLS_VERIFY) == "true"', {THEN, ELSE}),
    ("'DISABLE_SSL_CERT_VALIDATION' in os.environ", {THEN, ELSE}),
    ('v.GetBool("insecure-skip-tls-verify")', {THEN, ELSE}),
    ("params.SkipVerify", {THEN, ELSE}),
    ("tls_certificate is False", {THEN}),
    ("!opts.strictSSL", {THEN}),
    ("not verify_ssl", {THEN}),
    ("cfg.TLSVerify", {ELSE}),
    ("tlsEnabled", set()),
    ('err != nil && strings.Contains(err.Error(), "x509")', set()),
    ('process.env.NODE_ENV !== "production"', set()),
])
def test_which_branches_a_setting_guards(condition, branches):
    assert guarded_branches(condition) == branches


def test_severity_error_only_for_process_wide_switches(tmp_path, monkeypatch):
    write(tmp_path, {
        "app.ts": """
            import https from "node:https";
            export const agent = new https.Agent({ rejectUnauthorized: false });
            process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
            """,
        "fetch.py": """
            import ssl
            import requests
            ssl._create_default_https_context = ssl._create_unverified_context
            requests.get("https://example.com", verify=False)
            """,
        "client.go": """
            package client

            import "crypto/tls"

            var Config = &tls.Config{InsecureSkipVerify: true}
            """,
    })
    monkeypatch.chdir(tmp_path)
    got = sorted((f["path"], f["start"]["line"], f["severity"]) for f in findings("."))
    assert got == [("app.ts", 2, "warning"), ("app.ts", 3, "error"), ("client.go", 5, "warning"),
                   ("fetch.py", 3, "error"), ("fetch.py", 4, "warning")]


def test_test_code_is_skipped_by_default_and_reported_on_request(tmp_path, monkeypatch):
    write(tmp_path, {
        "pkg/restinfo_test.go": """
            package pkg

            import "k8s.io/client-go/rest"

            var wantRESTInfo = rest.TLSClientConfig{Insecure: true}
            """,
        "e2e/client.py": """
            import requests
            requests.get("https://localhost:8443", verify=False)
            """,
    })
    monkeypatch.chdir(tmp_path)
    assert findings(".") == []
    write(tmp_path, {"cnlint.toml": "[options.SEC001]\nskip-test-files = false\n"})
    r = cnlint("check", "--no-cache", "--select", "SEC001", "--format", "json", ".")
    assert sorted(f["path"] for f in json.loads(r.stdout)["findings"]) == ["e2e/client.py", "pkg/restinfo_test.go"]
