"""ESM001's view of what runs the code: Dockerfiles, VS Code's extension host, bundlers."""

import json

import pytest

from cnlint.rules.node import bundlers, nodeversion, runtimes


def _write(root, files):
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(content) if isinstance(content, dict) else content)


@pytest.fixture(autouse=True)
def _fresh_caches():
    for fn in (bundlers.bundler_for, runtimes.docker_range, runtimes.vscode_range, nodeversion.node_target,
               nodeversion._package_ranges, nodeversion._dotfile_range):
        fn.cache_clear()


@pytest.mark.parametrize("image, require_esm", [
    ("node:18-alpine", False),
    ("node:20", True),  # floating: the newest 20.x, past 20.19
    ("node:20.18.1-slim", False),
    ("node:22.11-bookworm", False),  # floating within 22.11.x only
    ("docker.io/library/node:22.12.0-alpine@sha256:abc", True),
    ("gcr.io/distroless/nodejs22-debian12:nonroot", True),
    ("gcr.io/distroless/nodejs18-debian12", False),
    ("registry.access.redhat.com/ubi9/nodejs-20:latest", True),
    ("node:hydrogen", False),
    ("node:lts-alpine", True),
])
def test_node_of_an_image(image, require_esm):
    rng = runtimes.image_node(image)
    assert rng is not None and (rng.admits_without_require_esm() is None) == require_esm


def test_images_that_are_not_node():
    assert runtimes.image_node("golang:1.23") is None
    assert runtimes.image_node("alpine:3.20") is None  # `apk add nodejs`: the version is not in the tag


def test_dockerfile_final_stage_and_args_decide(tmp_path):
    _write(tmp_path, {
        "svc/package.json": {"name": "svc", "engines": {"node": ">=18"}},
        "svc/Dockerfile": "ARG NODE=22\nFROM node:18 AS build\nRUN npm ci\n"
                          "FROM node:${NODE}-alpine AS run\nFROM run\nCMD [\"node\", \"a.js\"]\n",
        "other/package.json": {"name": "other", "engines": {"node": ">=18"}},
    })
    t = nodeversion.node_target(str(tmp_path / "svc"))
    assert t.require_esm and "FROM node:22-alpine" in t.source
    assert not nodeversion.node_target(str(tmp_path / "other")).require_esm  # no Dockerfile: engines.node


def test_vscode_extension_host_node(tmp_path):
    assert runtimes.vscode_node((1, 52, 0))[0] == 12
    assert runtimes.vscode_node((1, 100, 0))[:2] == (20, 18)
    assert runtimes.vscode_node((1, 101, 0))[0] == 22
    nodes = [node for _, node in runtimes.VSCODE_NODE]
    assert nodes == sorted(nodes)
    _write(tmp_path, {"old/package.json": {"engines": {"vscode": "^1.90.0", "node": ">=22.12"}},
                      "new/package.json": {"engines": {"vscode": "^1.101.0"}}})
    old = nodeversion.node_target(str(tmp_path / "old"))
    assert not old.require_esm and "Electron's Node 20.9.0" in old.source and "VS Code ^1.101" in old.upgrade
    assert nodeversion.node_target(str(tmp_path / "new")).require_esm


@pytest.mark.parametrize("package, files, inlined, external", [
    ({"scripts": {"build": "webpack --mode production"}}, {}, ["chalk"], []),
    ({}, {"webpack.config.js": "module.exports = {externals: {vscode: 'commonjs vscode', ora: 'commonjs ora'}}"},
     ["chalk"], ["vscode", "ora"]),
    ({}, {"webpack.config.js": "const nodeExternals = require('webpack-node-externals');"}, [], ["chalk"]),
    ({"scripts": {"b": "esbuild src/a.ts --bundle --platform=node --external:sharp --external:@aws-sdk/*"}}, {},
     ["chalk"], ["sharp", "@aws-sdk/client-s3"]),
    ({"scripts": {"b": "esbuild src/a.ts --bundle --packages=external"}}, {}, [], ["chalk"]),
    ({"scripts": {"b": "tsup src/cli.ts --no-external ora"}, "dependencies": {"chalk": "5", "ora": "8"}}, {},
     ["ora", "boxen"], ["chalk"]),
    ({"dependencies": {"chalk": "5"}}, {"rollup.config.mjs": "export default {input: 'a.js'}"}, [], ["chalk"]),
    ({}, {"rollup.config.mjs": "import { nodeResolve } from '@rollup/plugin-node-resolve';"}, ["chalk"], []),
    ({"devDependencies": {"@vercel/ncc": "0.38"}}, {}, ["chalk"], []),
    # VS Code's extension template: a build file calling esbuild's API
    ({"scripts": {"package": "npm run check-types && node esbuild.js --production"}},
     {"esbuild.js": "const esbuild = require('esbuild');\nesbuild.context({bundle: true, external: ['vscode']});"},
     ["chalk"], ["vscode"]),
])
def test_what_a_bundler_inlines(tmp_path, package, files, inlined, external):
    _write(tmp_path, {"package.json": {"name": "p", **package}, **files})
    b = bundlers.bundler_for(str(tmp_path))
    assert b is not None
    assert [p for p in inlined + external if b.inlines(p)] == inlined


def test_no_bundler(tmp_path):
    _write(tmp_path, {"package.json": {"name": "p", "scripts": {"build": "tsc", "js": "esbuild src/a.ts --outdir=dist",
                                                                 "transpile": "node build.mjs", "start": "node esbuild.js"},
                                       "devDependencies": {"esbuild": "0.24", "vite": "6"}},
                      "build.mjs": "import * as esbuild from 'esbuild';\nawait esbuild.build({entryPoints: ['a.ts']});"})
    assert bundlers.bundler_for(str(tmp_path)) is None
