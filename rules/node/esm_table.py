"""Well-known packages whose newer majors are ESM-only.

Used only when node_modules is not installed (the lockfile or package.json
gives a version, this table says whether that version can be require()d),
and for the "pin the last CommonJS major" advice. With node_modules present
the installed package itself is read instead; the table is never consulted
for the verdict.

Each entry: ``name: (first ESM-only major, last CommonJS version, first major
with top-level await in its graph or None, first major that ships a
``require`` entry again or None)``. Checked against the packages as published
on npm (benchmarks/esm/ installs many of them and compares with Node).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EsmFact:
    name: str
    esm_since: int  # first ESM-only major
    last_cjs: str  # last release that require() loads ("" if none)
    tla_since: int | None = None  # first major whose ES module graph has top-level await
    dual_again: int | None = None  # first major that again ships a require() entry

    def esm_only(self, major: int) -> bool:
        return major >= self.esm_since and (self.dual_again is None or major < self.dual_again)

    def has_tla(self, major: int) -> bool:
        return self.tla_since is not None and self.esm_only(major) and major >= self.tla_since


_T = {
    # name: (esm_since, last_cjs, tla_since, dual_again)
    "chalk": (5, "4.1.2"),
    "boxen": (6, "5.1.2"),
    "ora": (6, "5.4.1"),
    "execa": (6, "5.1.1"),
    "got": (12, "11.8.6"),
    "node-fetch": (3, "2.7.0"),
    "nanoid": (4, "3.3.8"),
    "p-limit": (4, "3.1.0"),
    "p-queue": (7, "6.6.2"),
    "p-map": (5, "4.0.0"),
    "p-retry": (5, "4.6.2"),
    "p-timeout": (5, "4.1.0"),
    "p-event": (5, "4.2.0"),
    "delay": (6, "5.0.0"),
    "globby": (12, "11.1.0"),
    "find-up": (6, "5.0.0"),
    "locate-path": (7, "6.0.0"),
    "path-exists": (5, "4.0.0"),
    "pkg-dir": (6, "5.0.0"),
    "strip-ansi": (7, "6.0.1"),
    "ansi-regex": (6, "5.0.1"),
    "ansi-styles": (6, "5.2.0"),
    "ansi-escapes": (5, "4.3.2"),
    "string-width": (5, "4.2.3"),
    "wrap-ansi": (8, "7.0.0"),
    "slice-ansi": (5, "4.0.0"),
    "cli-truncate": (3, "2.1.0"),
    "widest-line": (4, "3.1.0"),
    "escape-string-regexp": (5, "4.0.0"),
    "camelcase": (7, "6.3.0"),
    "decamelize": (6, "5.0.1"),
    "figures": (4, "3.2.0"),
    "log-symbols": (5, "4.1.0"),
    "log-update": (5, "4.0.0"),
    "cli-cursor": (4, "3.1.0"),
    "indent-string": (5, "4.0.0"),
    "open": (9, "8.4.2"),
    "inquirer": (9, "8.2.6", None, 10),
    "env-paths": (3, "2.2.1"),
    "meow": (10, "9.0.0"),
    "unified": (10, "9.2.2"),
    "vfile": (5, "4.2.1"),
    "remark": (14, "13.0.0"),
    "remark-parse": (10, "9.0.0"),
    "unist-util-visit": (3, "2.0.3"),
    "pretty-bytes": (6, "5.6.0"),
    "pretty-ms": (8, "7.0.1"),
    "parse-ms": (3, "2.1.0"),
    "serialize-error": (9, "8.1.0"),
    "get-stream": (7, "6.0.1"),
    "is-stream": (3, "2.0.1"),
    "is-plain-obj": (4, "3.0.0"),
    "is-unicode-supported": (1, "0.1.0"),
    "human-signals": (3, "2.1.0"),
    "npm-run-path": (5, "4.0.1"),
    "path-key": (4, "3.1.1"),
    "mimic-fn": (4, "3.1.0"),
    "onetime": (6, "5.1.2"),
    "lowercase-keys": (3, "2.0.0"),
    "normalize-url": (7, "6.1.0"),
    "cacheable-lookup": (7, "6.1.0"),
    "responselike": (3, "2.0.1"),
    "decompress-response": (7, "6.0.0"),
    "quick-lru": (6, "5.1.1"),
    "dot-prop": (7, "6.0.1"),
    "clipboardy": (3, "2.3.0"),
    "terminal-link": (3, "2.1.1"),
    "del": (7, "6.1.1"),
    "mime": (4, "3.0.0"),
    "lowdb": (3, "1.0.0"),
    "strip-json-comments": (4, "3.1.1"),
    "conf": (11, "10.2.0"),
    "filenamify": (5, "4.3.0"),
    "file-type": (17, "16.5.4"),
    "query-string": (8, "7.1.3"),
    "emittery": (1, "0.13.1"),
    "@sindresorhus/is": (5, "4.6.0"),
    "@octokit/rest": (21, "20.1.1"),
    "@octokit/core": (6, "5.2.0"),
    "@octokit/request": (9, "8.4.0"),
    "ky": (1, ""),
    "lodash-es": (0, ""),
    "d3": (7, "6.7.0"),
    "yoga-layout": (3, "", 3),
    "ink": (4, "3.2.0", 5),
    "ink-spinner": (5, "4.0.3"),
    "ink-text-input": (5, "4.0.3"),
    "vite": (7, "6.3.5"),
}

TABLE: dict[str, EsmFact] = {
    name: EsmFact(name, *(v + (None,) * (4 - len(v)))[:4]) for name, v in _T.items()
}


def fact(name: str) -> EsmFact | None:
    return TABLE.get(name)
