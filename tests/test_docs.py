"""The files in docs/writing-rules.md, extracted and run as a new user would."""

import os
import re

from conftest import cnlint

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "writing-rules.md")
BLOCK = re.compile(r'```\w+ title="(?P<path>[^"]+)"\n(?P<body>.*?)```', re.S)


def extract(tmp_path):
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    blocks = list(BLOCK.finditer(text))
    for m in blocks:
        p = tmp_path / m.group("path")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(m.group("body"), encoding="utf-8")
    return len(blocks)


def test_writing_rules_walkthrough(tmp_path, monkeypatch):
    assert extract(tmp_path) >= 8
    monkeypatch.chdir(tmp_path / "acme")
    r = cnlint("test-rules", "lint_fixtures")
    assert r.exit_code == 0, r.output
    assert "4 passed, 0 failed" in r.stdout
    r = cnlint("check", "--format", "json", "lint_fixtures")
    assert r.exit_code == 1
    assert r.stdout.count('"rule_id": "ACME') == 4
    r = cnlint("explain", "ACME003")
    assert "yaml.load without a safe loader" in r.stdout
