"""Property-based and mutation fuzzing (issue #15): whatever the input, cnlint
reports or skips it; it never crashes, never lets a rule crash, never breaks a
file with --fix, and a bad config is always a ConfigError."""

import os
import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnlint.config import Config, ConfigError, load_config, parse_table
from cnlint.engine import SYNTAX_ERROR, Engine
from cnlint.fixes import fix_file
from cnlint.languages import detect
from cnlint.runner import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks", "fuzz"))
import fuzz_cli  # noqa: E402

SEEDS = fuzz_cli.seed_files([os.path.join(REPO, "fixtures"), os.path.join(REPO, "examples")])
DONORS = [data for _, data in SEEDS]
# CI runs the same examples every time; a developer can explore with HYPOTHESIS_SEED-free runs.
FUZZ = settings(max_examples=int(os.environ.get("CNLINT_FUZZ_EXAMPLES", "60")), deadline=None,
                derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def engine():
    cfg = Config(root=REPO, trusted=False)
    registry, selection = load(cfg, select=["ALL"])
    return Engine(cfg, registry, selection, cwd=REPO)


def _syntax_errors(engine, path, language, data):
    res = engine.check(path, language, data, only=(SYNTAX_ERROR,))
    return sum(f.rule_id == SYNTAX_ERROR for f in res.findings + res.suppressed)


@FUZZ
@given(seed=st.sampled_from(range(len(SEEDS))), rnd=st.randoms(use_true_random=False))
def test_mutated_files_never_crash_a_rule_and_fixes_never_break_them(engine, seed, rnd):
    name, data = SEEDS[seed]
    mutant = fuzz_cli.mutate(data, rnd, DONORS)
    path = os.path.join("fuzz", name)
    language = detect(path, mutant[:256])
    result = engine.check(path, language, mutant)
    assert not [n for n in result.notices if n.is_error], result.notices
    for f in result.findings:
        assert f.span.start_line >= 1 and f.span.start_column >= 1
        assert 0 <= f.span.start_byte <= f.span.end_byte <= len(mutant)
    outcome = fix_file(engine, path, language, unsafe=True, original=mutant)
    assert not [n for n in outcome.notices if n.is_error]
    if outcome.changed:
        assert _syntax_errors(engine, path, language, outcome.fixed) <= _syntax_errors(engine, path, language, mutant)
        outcome.fixed.decode("utf-8")  # a fix never writes invalid UTF-8


_KEYS = ["select", "extend-select", "ignore", "severity", "options", "exclude", "extend-exclude",
         "per-file-ignores", "rule-paths", "plugins", "respect-gitignore", "baseline", "cache",
         "max-file-size", "jobs", "rule-timeout", "tool", "cnlint", "SEC001", "PERF001", "mode", ""]
_SCALARS = st.one_of(st.sampled_from(["SEC", "SEC001", "PERF001", "ALL", "", "!", "error", "note", "x*",
                                      "compiler", "syntactic", "security", "**/*.go"]),
                     st.text(max_size=8), st.integers(-3, 10 ** 12), st.booleans(), st.floats(allow_nan=True))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)), max_leaves=12)


@FUZZ
@given(table=st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=5))
def test_any_config_table_loads_or_is_a_config_error(tmp_path_factory, table):
    root = tmp_path_factory.mktemp("cfg")
    try:
        cfg = parse_table(table, str(root / "cnlint.toml"))
        cfg.rule_paths = []  # nothing to import in this test
        load(cfg)
    except ConfigError:
        pass


@FUZZ
@given(data=st.one_of(st.binary(max_size=200),
                      st.sampled_from([b"[tool]\ncnlint = 1\n", b"tool = []\n", b"[tool.cnlint]\nselect = 'x'\n",
                                       b"\xff\xfe[tool.cnlint]\n", b"a = " + b"[" * 2000])),
       name=st.sampled_from(["cnlint.toml", "pyproject.toml"]))
def test_any_config_file_loads_or_is_a_config_error(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("cfg") / name
    path.write_bytes(data)
    try:
        load_config(str(path))
    except ConfigError:
        pass


def test_short_mutation_run_of_the_cli_finds_nothing(tmp_path):
    """The fuzz script itself, briefly (benchmarks/fuzz/RESULTS.md has the long runs)."""
    rc = fuzz_cli.main(["--mutants", "120", "--batch", "60", "--seed", str(random.Random(15).randrange(10 ** 6)),
                        "--crash-dir", str(tmp_path / "crashes")])
    assert rc == 0, os.listdir(tmp_path / "crashes")
