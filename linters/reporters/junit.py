"""``--format junit``: a JUnit XML test report, for the test-report views of
Jenkins (``junit`` step), GitLab (``artifacts:reports:junit``) and Azure
DevOps (``PublishTestResults@2`` with ``testResultsFormat: JUnit``).

    <testsuites name="cnlint" tests="2" failures="1" errors="0" skipped="0" time="0">
      <testsuite name="src/main.go" tests="1" failures="1" errors="0" skipped="0" time="0">
        <testcase name="SEC001 tls-verification-disabled at src/main.go:3:5" classname="src/main.go"
                  file="src/main.go" line="3" time="0">
          <failure message="..." type="error">src/main.go:3:5: error[SEC001] ...</failure>
        </testcase>
      </testsuite>
      <testsuite name="cnlint" ...><testcase name="cnlint" classname="cnlint" time="0"/></testsuite>
    </testsuites>

The shape is the one the common JUnit schemas describe (Jenkins' junit-4.xsd,
windyroad's JUnit.xsd) and that all three consumers read: ``testsuites`` >
``testsuite`` (``name``, ``tests``, ``failures``, ``errors``, ``skipped``,
``time``) > ``testcase`` (``name``, ``classname``, ``time``; ``file`` and
``line`` as pytest and GitLab use them) with at most one ``failure``,
``error`` or ``skipped`` child.

* One ``testsuite`` per file with findings; each finding is a ``testcase``.
  A finding below the ``fail-on`` threshold (by default, a note) is a passing
  test case with the finding in ``system-out``: it is shown, and it does not
  fail the build, as it does not fail the run.
* Errors of the run (a rule crashed, a bad configuration, a path that does not
  exist) are ``error`` test cases in a suite named ``cnlint``.
* Suppressed findings, with ``--include-suppressed``, are ``skipped`` cases.
* That suite always has a passing ``cnlint`` test case: Jenkins' ``junit``
  step fails a build whose reports hold no test at all, so a clean run must not
  be an empty report.

Paths are relative to the repository root. Control characters are shown as
visible escapes (``xmlout``).
"""

from __future__ import annotations

from ..model import Finding, Severity, merge_order
from ..runner import RunResult
from .ci_common import report_path, report_root
from .xmlout import attr, text


def _fails(f: Finding, fail_on: str) -> bool:
    return fail_on != "never" and f.severity.rank >= Severity(fail_on).rank


def _case(f: Finding, path: str, fail_on: str) -> tuple[str, str]:
    """(the testcase element, its outcome: failure|passed|skipped)"""
    s = f.span
    where = f"{path}:{s.start_line}:{s.start_column}"
    name = f"{f.rule_id} {f.rule_name}".strip() + f" at {where}"
    detail = f"{where}: {f.severity.value}[{f.rule_id}] {f.message}"
    if f.fix is not None:
        detail += f"\nfix ({f.fix.applicability.value}): {f.fix.description}"
    head = (f"<testcase name={attr(name)} classname={attr(path)} file={attr(path)} "
            f"line={attr(s.start_line)} time=\"0\">")
    if f.suppressed_by is not None:
        body = f"<skipped message={attr('suppressed: ' + f.suppressed_by)}/>"
        outcome = "skipped"
    elif _fails(f, fail_on):
        body = f"<failure message={attr(f.message)} type={attr(f.severity.value)}>{text(detail)}</failure>"
        outcome = "failure"
    else:
        body = f"<system-out>{text(detail)}</system-out>"
        outcome = "passed"
    return f"{head}{body}</testcase>", outcome


def _suite(name: str, cases: list[tuple[str, str]]) -> str:
    count = {k: sum(o == k for _, o in cases) for k in ("failure", "error", "skipped")}
    head = (f"  <testsuite name={attr(name)} tests=\"{len(cases)}\" failures=\"{count['failure']}\" "
            f"errors=\"{count['error']}\" skipped=\"{count['skipped']}\" time=\"0\">")
    return "\n".join([head, *("    " + c for c, _ in cases), "  </testsuite>"])


def render(result: RunResult, *, fail_on: str = "warning", repo_root: str | None = None,
           include_suppressed: bool = False) -> str:
    root = report_root(result, repo_root)
    by_file: dict[str, list[tuple[str, str]]] = {}
    findings = list(result.findings) + (list(result.suppressed) if include_suppressed else [])
    for f in sorted(findings, key=merge_order):
        path = report_path(f.path, root)
        by_file.setdefault(path, []).append(_case(f, path, fail_on))
    run_cases = []
    for n in result.notices:
        if not n.is_error:
            continue
        where = report_path(n.path, root) if n.path else ""
        label = n.kind.value + (f" {where}" if where else "")
        case = (f"<testcase name={attr('cnlint ' + label)} classname=\"cnlint\" time=\"0\">"
                f"<error message={attr(n.message)} type={attr(n.kind.value)}>"
                f"{text((where + ': ' if where else '') + n.message)}</error></testcase>")
        run_cases.append((case, "error"))
    summary = f"{result.files} file{'s' * (result.files != 1)} checked"
    passed = f"<testcase name=\"cnlint\" classname=\"cnlint\" time=\"0\"><system-out>{text(summary)}</system-out></testcase>"
    run_cases.append((passed, "passed"))
    suites = [_suite(name, cases) for name, cases in by_file.items()] + [_suite("cnlint", run_cases)]
    every = [o for cases in [*by_file.values(), run_cases] for _, o in cases]
    head = (f"<testsuites name=\"cnlint\" tests=\"{len(every)}\" failures=\"{every.count('failure')}\" "
            f"errors=\"{every.count('error')}\" skipped=\"{every.count('skipped')}\" time=\"0\">")
    return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', head, *suites, "</testsuites>"]) + "\n"
