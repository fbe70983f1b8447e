"""Every built-in rule against its fixtures (fixtures/<ID>/): the generic runner."""

import os

import pytest

from cnlint.loader import load_rules
from cnlint.testing import builtin_fixtures_dir, check_rule_fixtures

REGISTRY = load_rules()
FIXTURES = builtin_fixtures_dir()
RULE_IDS = sorted(REGISTRY.rules)


def test_builtin_rules_load_cleanly():
    assert not REGISTRY.notices, REGISTRY.notices
    assert RULE_IDS


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fixtures(rule_id, monkeypatch):
    folder = os.path.join(FIXTURES, rule_id)
    assert os.path.isdir(folder), f"{rule_id} has no fixtures folder {folder}"
    monkeypatch.chdir(folder)
    report = check_rule_fixtures(rule_id, ".", REGISTRY)
    assert report.files > 0
    assert not report.mismatches, "\n".join(map(str, report.mismatches))
    # true positives that must appear, and traps that must stay quiet
    assert report.expected > 0, f"{rule_id}: no `want:` expectations in its fixtures"
    assert report.trap_files > 0, f"{rule_id}: no fixture file without expectations (false-positive traps)"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fixtures_cover_every_language(rule_id):
    """A rule implemented for a language has a fixture in that language."""
    from cnlint import languages

    exts = {lang: {e for e, l in languages.EXTENSIONS.items() if l == lang} for lang in languages.ALL}
    found = set()
    for d, _, files in os.walk(os.path.join(FIXTURES, rule_id)):
        for f in files:
            found |= {lang for lang, es in exts.items() if os.path.splitext(f)[1] in es}
    info = REGISTRY.rules[rule_id]
    wanted = {lang for lang in info.languages if lang != "tsx"}
    if info.meta.backend() == "engine":
        wanted = {"go", "python", "typescript"}
    assert wanted <= found, f"{rule_id}: no fixtures for {sorted(wanted - found)}"
