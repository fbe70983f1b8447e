"""The ``skip-test-files`` option of the K8S rules."""

from __future__ import annotations

from cnlint import Option

SKIP_TEST_FILES = "skip-test-files"
SKIP_TEST_FILES_OPTION = Option(
    True,
    "do not report in test code (`ctx.is_test_code`: `*_test.go`, `test_*.py`, `test/`, `testdata/`, "
    "test-helper packages such as `testing/`, `fake/`, `e2e/`, test doubles; config `test-code`): fake "
    "clientsets and e2e fixtures manipulate pods, watches and informers in ways that are harmless there",
)


def skip_test_files_option() -> Option:
    return Option(
        True,
        "do not report in test code (`ctx.is_test_code`: `*_test.go`, `test_*.py`, `test/`, `testdata/`, "
        "test-helper packages, fakes and mocks; config `test-code`): fakes, e2e helpers and deliberately "
        "broken configs live there",
    )


def skip_file(rule) -> bool:
    return bool(rule.options.get(SKIP_TEST_FILES)) and rule.ctx.is_test_code
