"""The ``skip-test-files`` option of the K8S rules (test code: ``ctx.is_test_code``)."""

from __future__ import annotations

from cnlint.code_kinds import skip_test_files_option

SKIP_TEST_FILES_OPTION = skip_test_files_option(
    True, "fake clientsets, e2e helpers and deliberately broken configs manipulate pods, watches, informers "
          "and clients in ways that are harmless there")
