"""The GitHub Action's run step (action.yml), executed as the runner would run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"  # findings of severity warning, none of severity error


def run_step(tmp_path, **inputs):
    script = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"][1]["run"]
    out = tmp_path / "github_output"
    out.write_text("")
    env = dict(os.environ, PY=sys.executable, INPUT_PATHS=str(DEMO), INPUT_ARGS="--no-cache",
               INPUT_SARIF_FILE=str(tmp_path / "cnlint.sarif"), INPUT_CATEGORY="",
               INPUT_FAIL_ON_FINDINGS="false", INPUT_FAIL_ON="", GITHUB_OUTPUT=str(out))
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    return proc.returncode, outputs


@pytest.mark.parametrize("inputs, step_exit, cnlint_exit", [
    ({}, 0, "1"),  # code scanning reports the findings; the step passes
    ({"fail_on_findings": "true"}, 1, "1"),
    ({"fail_on": "warning"}, 1, "1"),
    ({"fail_on": "error"}, 0, "0"),  # the demo's findings are warnings
])
def test_fail_on_inputs(tmp_path, inputs, step_exit, cnlint_exit):
    code, outputs = run_step(tmp_path, **inputs)
    assert code == step_exit and outputs["exit-code"] == cnlint_exit
    assert Path(outputs["sarif-file"]).is_file()


def test_a_path_that_does_not_exist_fails_the_step(tmp_path):
    code, outputs = run_step(tmp_path, paths="servcie/")
    assert code == 2 and outputs["exit-code"] == "2"


def test_zizmor_finds_nothing_in_the_action_or_the_documented_workflow(tmp_path):
    """The action and the workflow docs/sarif.md recommends pass zizmor's audits
    (offline: pinned actions, no persisted credentials, least permissions); the
    one reference left unpinned is cnlint's own action, which has no release yet."""
    import re

    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "sarif.md").read_text(), re.S)
    (workflows / "cnlint.yml").write_text(blocks[0])
    (tmp_path / "action.yml").write_text((ROOT / "action.yml").read_text())
    zizmor = Path(sys.executable).with_name("zizmor")
    proc = subprocess.run([str(zizmor), "--offline", "--format", "json", ".github/workflows", "action.yml"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
