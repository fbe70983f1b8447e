"""The repository's promises: README commands, CI script, packaging."""

import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..")


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def test_ci_runs_exactly_the_readme_test_command():
    readme = read("README.md")
    commands = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert len(commands) >= 2
    demo, tests = commands[0], commands[1]
    assert "examples/demo" in demo and "--sarif-output" in demo
    assert tests in read(".ci", "run").splitlines()


def test_every_package_folder_is_packaged():
    """pyproject's explicit package list must name every folder with an __init__.py."""
    text = read("pyproject.toml")
    listed = set(re.findall(r'"(cnlint(?:\.[\w.]+)?)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    mapping = {"linters": "cnlint", "rules": "cnlint.rules", "fixtures": "cnlint.fixtures"}
    found = set()
    for top, pkg in mapping.items():
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [x for x in dirs if not x.startswith((".", "__"))]
            if "__init__.py" in files:
                rel = os.path.relpath(d, os.path.join(ROOT, top))
                found.add(pkg if rel == "." else pkg + "." + rel.replace(os.sep, "."))
    assert found == listed
