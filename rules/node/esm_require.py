"""ESM001 require-of-esm-only-package: a require() that Node will refuse.

The check, per file:

1. Is the file CommonJS when it runs, and which of its imports become
   ``require()``? (:mod:`.tsconfig` for TypeScript: ``module``, file extension,
   package ``type``, import elision; ``.cjs``/``.mjs``/package ``type`` for
   JavaScript.)
2. What does each required specifier resolve to, and is that file an ES
   module? (:mod:`.resolver`, Node's CommonJS resolver and format rules, on the
   installed packages; :mod:`.lockfiles` + :mod:`.esm_table` when node_modules
   is missing.)
3. Which Node versions run it (:mod:`.nodeversion`): below require(esm) the
   require throws ERR_REQUIRE_ESM; with it, an ES module graph with top-level
   await throws ERR_REQUIRE_ASYNC_MODULE, and otherwise require() returns the
   module namespace, which breaks CommonJS-style use (a warning).

Sites are collected by the engine's combined query (``on_match``) and judged
in ``check_tree``; every project fact is cached per process.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any

from cnlint import Option, TreeSitterRule
from cnlint.model import Severity

from . import resolver
from .bundlers import bundler_for
from .esm_table import fact
from .lockfiles import locked_version, major
from .nodeversion import NodeTarget, node_target
from .pkgjson import is_file, node_modules_paths, package_type, show_path, split_package
from .tsconfig import DECL_RE, JS_EXTS, Emit, config_for, emit_mode

NODE_VERSION = "node-version"
BUNDLED = "bundled"
EXTERNAL = "external"
REQUIRE_MODULE = "require-module"


AUTO = "auto"


class ListOrBool(Option):
    """An option that is a list of names, true/false, or "auto"."""

    def coerce(self, value: Any, where: str) -> Any:
        if isinstance(value, bool) or value == AUTO:
            return value
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ValueError(f"{where}: expected a list of package names, true/false or \"auto\", got {value!r}")


_TYPE_CONTEXTS = frozenset({
    "type_annotation", "type_alias_declaration", "interface_declaration", "type_arguments",
    "type_parameters", "implements_clause", "extends_type_clause", "type_query", "nested_type_identifier",
    "generic_type", "ambient_declaration", "type_predicate_annotation", "asserts_annotation",
    "opting_type_annotation", "omitting_type_annotation", "adding_type_annotation", "index_type_query",
    "lookup_type", "conditional_type", "union_type", "intersection_type", "function_type",
    "constructor_type", "object_type", "tuple_type", "array_type", "readonly_type", "infer_type",
    "parenthesized_type", "type_predicate", "function_signature", "abstract_method_signature",
    "property_signature", "method_signature", "index_signature", "enum_declaration_type",
})
_STOP = frozenset({"program", "statement_block", "class_body"})

_COMMON_QUERY = """
(import_statement) @import
(export_statement source: (_)) @export_from
((call_expression function: (identifier) @fn arguments: (arguments . [(string) (template_string)] @arg)) @call
  (#eq? @fn "require"))
((call_expression function: (member_expression object: (identifier) @obj property: (property_identifier) @prop)
  arguments: (arguments . [(string) (template_string)] @arg)) @mcall
  (#eq? @obj "module") (#eq? @prop "require"))
(call_expression function: (import) arguments: (arguments . [(string) (template_string)] @arg)) @dyn
((variable_declarator name: (identifier) @crname value: (call_expression function: [(identifier) (member_expression)] @crfn))
  (#match? @crfn "createRequire$"))
"""


@dataclass
class Site:
    node: Any  # what to report
    spec: str
    kind: str  # import | export_from | import_equals | require | created | dynamic
    decl: Any = None  # import statement / variable declarator (bindings)


@dataclass(frozen=True)
class FileMode:
    cjs: bool  # imports become require() / require() exists at run time
    why: str
    emit: Emit | None = None  # TypeScript's view (also for JS compiled by tsc)
    skip: bool = False

    @property
    def ts(self) -> bool:
        return self.emit is not None


def _string_value(node) -> str | None:
    if node is None:
        return None
    if node.type == "template_string":
        if any(c.type == "template_substitution" for c in node.named_children):
            return None
    elif node.type != "string":
        return None
    text = node.text.decode("utf-8", "replace")
    return text[1:-1] if len(text) >= 2 else None


def _in_type_context(node) -> bool:
    p = node.parent
    while p is not None and p.type not in _STOP:
        if p.type in _TYPE_CONTEXTS:
            return True
        p = p.parent
    return False


_rel = show_path


class RequireOfEsmOnlyPackage(TreeSitterRule):
    id = "ESM001"
    name = "require-of-esm-only-package"
    summary = "require() of an ES-module-only package: ERR_REQUIRE_ESM at run time"
    severity = "error"
    uses_project = True  # reads package.json, tsconfig, lockfiles, node_modules: part of the cache key
    tags = ("correctness", "node")
    precision = "high"
    languages = ("javascript", "typescript", "tsx")
    requires = ("import", "require")
    options = {
        NODE_VERSION: Option(
            "",
            "the Node.js versions the code runs on, as a semver range or version (`>=18`, `20.19`, "
            "`^20.19 || >=22.12`); empty: detect from `engines.node`, `volta.node`, `.nvmrc`, "
            "`.node-version`, and assume no require(esm) when nothing says",
        ),
        REQUIRE_MODULE: Option(
            "auto",
            "whether require(esm) is on: `auto` (by the Node versions), `off` (the code runs with "
            "`--no-experimental-require-module`), `on`",
            ("auto", "off", "on"),
        ),
        BUNDLED: ListOrBool(
            AUTO,
            "packages a bundler inlines into the output, which are never require()d at run time: `auto` "
            "(detect webpack, esbuild, rollup, vite, tsup, ncc or parcel in the package that owns the file, "
            "and what each leaves external), a list of names, `true` (every package except those in "
            "`external`), or `false` (nothing is bundled)",
        ),
        EXTERNAL: Option([], "with `bundled = true` or `auto`: the packages left external (still require()d)"),
    }
    query = {
        "javascript": _COMMON_QUERY,
        "typescript": _COMMON_QUERY + "(import_statement (import_require_clause) @ireq) @import_equals\n",
        "tsx": _COMMON_QUERY + "(import_statement (import_require_clause) @ireq) @import_equals\n",
    }
    help = """\
## What it does
Reports a `require()` that Node.js will refuse at run time because the package
(or file) it loads is an ES module: the classic crash of a TypeScript CLI
compiled to CommonJS that imports chalk 5, boxen 7, ora 6+, execa 6+, got 12+,
node-fetch 3... It builds cleanly (`tsc` under `"module": "commonjs"` says
nothing) and dies at start with `Error [ERR_REQUIRE_ESM]: require() of ES Module
... not supported`.

The rule decides as Node does, on the installed packages:

- **Which files are CommonJS at run time.** `.cjs`/`.cts` are, `.mjs`/`.mts`
  are not, `.js`/`.ts` follow the nearest package.json `"type"`. For
  TypeScript, the tsconfig.json that includes the file (`extends` followed):
  `"module": "commonjs"` emits `require()`; `node16`/`node18`/`node20`/`nodenext`
  decide per file by extension and package type; `es2015`...`esnext` and
  `preserve` keep `import`. A `.js` file with `import`/`export` statements is
  treated as an ES module (Node detects it, or a transpiler handles it).
- **Which source forms become a `require()`** in a CommonJS file: value
  imports (default, named, namespace, side-effect), `export ... from`,
  `import x = require()`, literal `require('p')`, `module.require('p')`, a
  `require` made by `createRequire` (in any file), and `import('p')` where
  TypeScript rewrites it to `require()` (`"module": "commonjs"`, or a `.cts`
  file under `es2015`...`esnext`; never under `node16`/`nodenext`). Not:
  `import type`, inline `type` specifiers, imports whose bindings are only used
  as types or not at all (TypeScript elides them, unless
  `verbatimModuleSyntax`, or `preserveValueImports`/`importsNotUsedAsValues`
  with a TypeScript older than 5.5),
  `typeof import('p')`, `require.resolve()`, a real `import()`.
- **What it resolves to**, with Node's CommonJS resolver: the nearest
  `node_modules`, scoped packages, subpaths, `exports` with the conditions
  `node`, `require`, `default` (and `module-sync` where require(esm) is on;
  never `import`, `module` or `browser`) in key order, else `main` and `index`
  probing; `#imports` and self-references. The `module` field is ignored, as
  Node ignores it. Then the file's format: `.mjs`, `.cjs`, the nearest
  package.json `"type"` (nested package.json files inside a package count).
  `"type": "module"` alone does not make a package ESM-only: a dual package's
  `require` entry is found and is fine.
- **Which Node runs it.** The `node-version` option; else the Node that
  actually runs the code: the final stage of the package's Dockerfile
  (`FROM node:22-alpine`, `gcr.io/distroless/nodejs22-debian12`; a floating
  tag such as `node:20` pulls the newest release of its line, which has
  require(esm) on the 20 and 22 lines), or, for a VS Code extension
  (`engines.vscode`), the Node.js of the Electron that the lowest admitted VS
  Code ships (1.52: Node 12.14, 1.82: 18.15, 1.90: 20.9, 1.96: 20.18, 1.101:
  22.15 — from each release's Electron version and the Node.js that Electron
  bundles, releases.electronjs.org); else the lowest version admitted by
  `engines.node`, `volta.node`, `.nvmrc` or `.node-version`.
  require(esm) is on by default from Node 20.19 (20.x), 22.12 and 23; below
  (and with `--no-experimental-require-module`, found in package.json scripts,
  a shebang, or the `require-module` option) `require()` of an ES module throws
  `ERR_REQUIRE_ESM`. With nothing to go on the rule assumes a Node without
  require(esm), and says so.
- **Top-level await.** An ES module graph with top-level await (in the
  package or its static imports: ink 5 through yoga-layout 3) throws
  `ERR_REQUIRE_ASYNC_MODULE` on every Node: always an error.
- **require(esm) returns a namespace.** Where require(esm) is on, a plain
  `const chalk = require('chalk')` loads, but `chalk` is the module namespace:
  `chalk.red(...)` or `ora(...)` throws a TypeError. That is a **warning**,
  reported only where the file uses the result CommonJS-style (calls it,
  constructs it, reads a property the module does not export).

A package whose `exports` has only an `import` entry cannot be required either
(`ERR_PACKAGE_PATH_NOT_EXPORTED`), and a `.js` file with `import`/`export`
syntax in a package without `"type"` throws a SyntaxError where require(esm) is
off; both are reported too, as are relative requires of ES modules (a `.mjs`
file, or a `.mts` source). A require inside `try { } catch` does not crash the
program, but the fallback always runs: that is a warning. Without `node_modules`
(a fresh clone, pre-commit), the version comes from `package-lock.json`,
`pnpm-lock.yaml`, `yarn.lock` or `bun.lock` (else the package.json range) and a
built-in table of well-known ESM-only majors; such findings say they are of
lower precision. Packages neither installed nor in the table are not reported.

## Why is this bad?
The program crashes at start-up, on the first `require()` of the package,
typically after a routine dependency upgrade (Renovate bumps chalk from 4 to
5) that type-checks and builds without a warning. Node's own documentation:
"`require()` of an ES module is not supported" before require(esm) (Node
20.19/22.12), and on every version for a graph with top-level await.

## Example
```typescript
// tsconfig.json: { "compilerOptions": { "module": "commonjs" } }
// package.json: { "engines": { "node": ">=18" }, "dependencies": { "chalk": "^5.3.0" } }
import chalk from "chalk"; // compiled to require("chalk"): ERR_REQUIRE_ESM on Node 18
console.log(chalk.green("done"));
```

```javascript
// index.js in a CommonJS package, engines.node ">=22.12"
const ora = require("ora"); // loads with require(esm), but returns the namespace
ora("Loading").start();     // TypeError: ora is not a function
```

## Use instead
```typescript
// keep CommonJS and load the ES module at run time
// ("module": "node16"/"nodenext" keeps import() as a real import)
const { default: chalk } = await import("chalk");
```

```javascript
const ora = require("ora").default; // with require(esm) (Node >= 20.19 / 22.12)
```

Or pin the last CommonJS major (`"chalk": "^4.1.2"`), or move the file or the
project to ESM (`.mjs`/`.mts`, or `"type": "module"` with `"module": "nodenext"`).

## How to fix
Pick one, as the message suggests:

1. **Load it with `import()`** from CommonJS: `const { default: chalk } = await
   import("chalk")`. In TypeScript this needs `"module": "node16"` or
   `"nodenext"`: under `"module": "commonjs"` TypeScript rewrites `import()` to
   `require()` and the crash stays.
2. **Pin the last CommonJS major** of the package (the message names it for
   well-known packages).
3. **Move to ESM**: rename the file to `.mjs`/`.mts`, or set `"type": "module"`
   in package.json (with `"module": "nodenext"` in tsconfig.json).
4. **Require Node with require(esm)** (`"engines": {"node": "^20.19 || >=22.12"}`)
   when the package has no top-level await, and use `require("p").default` for
   a default export.

**Bundled code is not reported.** When a bundler inlines the package into
the output, the bundle holds the package's code and no `require()` of it runs,
so an ES-module-only package is fine at run time; the rule stays quiet rather
than adding a note, because there is nothing to fix. The bundler is detected in
the package that owns the file (its nearest package.json): a config file
(`webpack.config.*`, `rollup.config.*`, `vite.config.*`, `tsup.config.*`,
`esbuild.config.*`), a script that runs one (`webpack`, `esbuild --bundle`,
`rollup`, `vite build`, `tsup`, `ncc build`, `parcel build`) or a build file
that calls a bundler's API (`node esbuild.js`, as in VS Code's extension
template), or webpack, rollup, tsup, parcel or `@vercel/ncc` in
devDependencies. What each bundler
leaves external is still reported, as it is still `require()`d: webpack's
`externals` (all packages with `webpack-node-externals`), esbuild's
`--external:pkg` and `--packages=external`, rollup without its node-resolve
plugin (every package), and the `dependencies`/`peerDependencies` that tsup,
parcel and vite's SSR build leave external unless `noExternal` names them.
`esbuild` without `--bundle` (or `bundle: true`) only transpiles: nothing is
inlined. Override the
detection with the `bundled` option, per package or for everything (in
`cnlint.toml` the table is `[options.ESM001]`):

```toml
[tool.cnlint.options.ESM001]
bundled = ["chalk", "boxen"]      # inlined by the bundler
# or: bundled = true, external = ["sharp"]   # everything inlined but these
# or: bundled = false                        # nothing is bundled: report every require
```

Other options: `node-version = "^20.19 || >=22.12"` overrides the detected
Node versions (note that `">=20.19"` admits 21.x and 22.0-22.11, which have no
require(esm)); `require-module = "off"` says the code runs with
`--no-experimental-require-module`.
"""

    # ---------------------------------------------------------------- collection

    def on_match(self, captures) -> None:
        st = self._state()
        if "import_equals" in captures:
            node = captures["import_equals"][0]
            clause = captures["ireq"][0]
            st["sites"][node.start_byte] = None  # the plain @import match of the same node is dropped
            if any(c.type == "type" for c in node.children):
                return
            spec = _string_value(clause.child_by_field_name("source") or next(
                (c for c in clause.named_children if c.type == "string"), None))
            if spec is not None:
                st["equals"].append(Site(node, spec, "import_equals", clause))
            return
        if "import" in captures:
            node = captures["import"][0]
            spec = _string_value(node.child_by_field_name("source"))
            if spec is not None and node.start_byte not in st["sites"]:
                st["sites"][node.start_byte] = Site(node, spec, "import", node)
            return
        if "export_from" in captures:
            node = captures["export_from"][0]
            spec = _string_value(node.child_by_field_name("source"))
            if spec is not None:
                st["sites"][node.start_byte] = Site(node, spec, "export_from", node)
            return
        if "crname" in captures:
            st["created"].add(captures["crname"][0].text.decode())
            return
        call = (captures.get("call") or captures.get("mcall") or captures.get("dyn") or [None])[0]
        if call is None:
            return
        spec = _string_value(captures["arg"][0])
        if spec is None or _in_type_context(call):
            return
        kind = "dynamic" if "dyn" in captures else "require"
        st["sites"][call.start_byte] = Site(call, spec, kind, call)

    def _state(self) -> dict:
        st = getattr(self, "_st", None)
        if st is None or st["ctx"] is not self.ctx:
            st = self._st = {"ctx": self.ctx, "sites": {}, "equals": [], "created": set()}
        return st

    # ---------------------------------------------------------------- per file

    def check_tree(self, root) -> None:
        st = self._state()
        self._st = None
        sites = [s for s in st["sites"].values() if s is not None] + st["equals"]
        created = st["created"]
        data = self.ctx.source.data
        if created - {"require"}:
            sites += self._created_calls(created - {"require"}, root, data)
        if not sites:
            return
        path = os.path.abspath(self.ctx.path)
        if DECL_RE.search(path):
            return
        mode = self._file_mode(path, root, sites)
        if mode.skip:
            return
        directory = os.path.dirname(path)
        target = self._target(directory)
        for site in sorted(sites, key=lambda s: s.node.start_byte):
            if self._bundled(site.spec, directory) or resolver.is_builtin(site.spec):
                continue
            loads = self._loads_at_runtime(site, mode, created, root, data)
            if loads is False:
                continue
            # whether TypeScript keeps an import (a scan of the file for its bindings)
            # is only worked out when the import would be reported
            self._pending = loads if callable(loads) else None
            try:
                self._judge(site, mode, target, directory, root, data)
            finally:
                self._pending = None

    @staticmethod
    def _created_calls(names: set[str], root, data: bytes) -> list[Site]:
        """Calls of the functions `createRequire()` returned: `req('p')`."""
        out = []
        for name in sorted(names):
            for m in re.finditer(rb"(?<![\w$.])" + re.escape(name.encode()) + rb"\s*\(", data):
                node = root.descendant_for_byte_range(m.start(), m.start() + len(name.encode()))
                if node is None or node.type != "identifier":
                    continue
                call = node.parent
                if call is None or call.type != "call_expression" or call.child_by_field_name("function") != node:
                    continue
                args = call.child_by_field_name("arguments")
                first = args.named_children[0] if args is not None and args.named_children else None
                spec = _string_value(first)
                if spec is not None:
                    out.append(Site(call, spec, "created", call))
        return out

    def _file_mode(self, path: str, root, sites) -> FileMode:
        ext = os.path.splitext(path)[1].lower()
        if self.ctx.language in ("typescript", "tsx") and ext not in JS_EXTS:
            emit = emit_mode(path)
            if emit.mode == "none":
                return FileMode(False, emit.why, emit, skip=True)
            return FileMode(emit.mode == "cjs", emit.why, emit)
        cfg = config_for(path)
        if cfg is not None and cfg.flag("allowJs") and not cfg.flag("noEmit") and cfg.includes(path) \
                and ext != ".cjs" and ext != ".mjs":
            emit = emit_mode(path)
            if emit.mode in ("cjs", "esm") and cfg.options.get("outdir_abs") \
                    and not path.startswith(cfg.options["outdir_abs"] + os.sep):
                return FileMode(emit.mode == "cjs", emit.why + " (compiled by tsc, allowJs)", emit)
        if ext == ".cjs":
            return FileMode(True, "a .cjs file is CommonJS")
        if ext == ".mjs":
            return FileMode(False, "a .mjs file is an ES module")
        t, pj = package_type(os.path.dirname(path))
        if t == "module":
            return FileMode(False, f'{_rel(pj)} has "type": "module"')
        if any(c.type in ("import_statement", "export_statement") for c in root.children) \
                or b"import.meta" in self.ctx.source.data:
            return FileMode(False, "the file uses import/export syntax (an ES module, or transpiled)")
        return FileMode(True, (f'{_rel(pj)} has no "type": "module"' if pj else
                               'no package.json gives a "type"') + ", so this .js file is CommonJS")

    def _target(self, directory: str) -> NodeTarget:
        data = self.ctx.source.data
        shebang_flag = data.startswith(b"#!") and b"--no-experimental-require-module" in data.split(b"\n", 1)[0]
        t = node_target(directory, self.options.get(NODE_VERSION) or "", shebang_flag)
        rm = self.options.get(REQUIRE_MODULE, "auto")
        if rm == "off" and not t.flag_off:
            t = dataclasses.replace(t, flag_off=True)
        elif rm == "on":
            t = dataclasses.replace(t, flag_off=False, source=t.source + "; require-module = on")
            from .nodeversion import NodeRange, INF

            t = dataclasses.replace(t, range=NodeRange((((22, 12, 0), INF),), ">=22.12"))
        return t

    def _bundled(self, spec: str, directory: str) -> bool:
        b = self.options.get(BUNDLED)
        if resolver.is_builtin(spec):
            return False
        local = spec.startswith((".", "/", "#"))
        parts = split_package(spec)
        name = parts[0] if parts else spec
        if b == AUTO:
            bundler = bundler_for(directory)
            return bundler is not None and (local or (
                bundler.inlines(name) and name not in (self.options.get(EXTERNAL) or [])))
        if local:
            return False
        if b is True:
            return name not in (self.options.get(EXTERNAL) or [])
        return bool(b) and name in b

    # ---------------------------------------------------------------- does it load?

    def _loads_at_runtime(self, site: Site, mode: FileMode, created: set[str], root, data: bytes):
        """True/False, or a function answering it later (the import-elision scan)."""
        kind = site.kind
        if kind == "created":
            return True
        if kind == "require":
            fn = site.node.child_by_field_name("function")
            name = fn.text.decode() if fn is not None and fn.type == "identifier" else "module.require"
            if name in created:
                site.kind = "created"
                return True
            return mode.cjs
        if kind == "dynamic":
            return mode.emit is not None and mode.emit.downlevels_dynamic_import
        if kind == "import_equals":
            if mode.emit is None or not mode.emit.equals_is_require:
                return False
            if mode.emit.keeps_all_imports:
                return True
            name = self._equals_name(site)
            if name is None:
                return True
            return lambda: self._value_used(name, site.node, root, data)
        if not mode.cjs:
            return False
        node = site.node
        if kind == "export_from":
            if mode.emit is None:
                return True
            if any(c.type == "type" for c in node.children):
                return False
            clause = next((c for c in node.named_children if c.type == "export_clause"), None)
            if clause is None:
                return True
            specs = [c for c in clause.named_children if c.type == "export_specifier"]
            if specs and all(any(t.type == "type" for t in c.children) for c in specs):
                return mode.emit.keeps_type_only_side_effect
            return True
        # import statement
        if any(c.type == "type" for c in node.children):
            return False
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            return True  # side-effect import
        if mode.emit is None:
            return True  # JavaScript compiled by something that keeps every import
        value_names, type_only_specs = [], 0
        for c in clause.named_children:
            if c.type == "identifier":
                value_names.append(c.text.decode())
            elif c.type == "namespace_import":
                ident = next((x for x in c.named_children if x.type == "identifier"), None)
                if ident is not None:
                    value_names.append(ident.text.decode())
            elif c.type == "named_imports":
                for spec in c.named_children:
                    if spec.type != "import_specifier":
                        continue
                    if any(t.type == "type" for t in spec.children):
                        type_only_specs += 1
                        continue
                    local = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
                    if local is not None and local.type == "identifier":
                        value_names.append(local.text.decode())
        if mode.emit.keeps_all_imports:
            return bool(value_names) or mode.emit.keeps_type_only_side_effect or not type_only_specs
        if not value_names:
            return False
        return lambda: any(self._value_used(n, node, root, data) for n in value_names)

    @staticmethod
    def _equals_name(site: Site) -> str | None:
        ident = next((c for c in site.decl.named_children if c.type == "identifier"), None)
        return ident.text.decode() if ident is not None else None

    @staticmethod
    def _references(name: str, decl, root, data: bytes):
        pat = re.compile(rb"(?<![\w$])" + re.escape(name.encode()) + rb"(?![\w$])")
        for m in pat.finditer(data):
            if decl.start_byte <= m.start() < decl.end_byte:
                continue
            node = root.descendant_for_byte_range(m.start(), m.end())
            if node is None or node.type not in ("identifier", "shorthand_property_identifier"):
                continue
            if node.start_byte != m.start() or node.end_byte != m.end():
                continue
            yield node

    def _value_used(self, name: str, decl, root, data: bytes) -> bool:
        return any(not _in_type_context(n) for n in self._references(name, decl, root, data))

    # ---------------------------------------------------------------- verdict

    def _judge(self, site: Site, mode: FileMode, target: NodeTarget, directory: str, root, data: bytes) -> None:
        spec = site.spec
        if resolver.is_builtin(spec):
            return
        if spec.startswith((".", "/")) and mode.ts:
            self._judge_ts_relative(site, mode, target, directory)
            return
        outcome = resolver.require_outcome(spec, directory, target.require_esm)
        res = outcome.resolved
        if outcome.status == "unresolved":
            if res is not None and res.error == "MODULE_NOT_FOUND" and res.error_detail == "not installed" \
                    and not spec.startswith((".", "/", "#")):
                self._judge_from_lockfile(site, mode, target, directory, root, data)
            return
        if outcome.status == "ok":
            return
        if outcome.status == "throws":
            self._report_throw(site, mode, target, outcome)
            return
        # namespace: loads through require(esm); only CommonJS-style use breaks
        exports = outcome.exports
        if exports is not None and "module.exports" in exports:
            return
        use = self._cjs_style_use(site, mode, exports, root, data)
        if use is None:
            return
        node_use, how = use
        msg = (f"{self._subject(site, mode)} returns the ES module namespace of {self._what(site.spec, res)} "
               f"on {target.describe()}, not a CommonJS export: {how}. "
               f"{self._loads(res, outcome)}{self._exports_note(exports)}. Fix: use `require({spec!r}).default` "
               f"or a named export, `await import({spec!r})`{self._pin(spec)}, or move this file to ESM")
        self._emit(site.node, msg, Severity.WARNING, related=[(node_use, "CommonJS-style use of the namespace")])

    # ---------------------------------------------------------------- messages

    @staticmethod
    def _subject(site: Site, mode: FileMode) -> str:
        req = f"`require({site.spec!r})`"
        if site.kind == "import":
            return f"This import compiles to {req} ({mode.why}) and"
        if site.kind == "export_from":
            return f"This re-export compiles to {req} ({mode.why}) and"
        if site.kind == "dynamic":
            return f"TypeScript rewrites this `import()` to {req} ({mode.why}), which"
        if site.kind == "import_equals":
            return f"This `import = require()` is {req} at run time ({mode.why}) and"
        if site.kind == "created":
            return f"{req} (made by createRequire)"
        return req

    @staticmethod
    def _what(spec: str, res: resolver.Resolved | None) -> str:
        if res is not None and res.package:
            v = res.version
            return f"{res.package}@{v}" if v else res.package
        return repr(spec)

    def _loads(self, res: resolver.Resolved | None, outcome: resolver.Outcome) -> str:
        what = self._what(res.specifier if res else "", res)
        via = f" (via {res.via})" if res is not None and res.via else ""
        return f"{what} resolves to {_rel(res.path if res else None)}{via}, an ES module: {outcome.why}"

    def _pin(self, spec: str) -> str:
        parts = split_package(spec)
        f = fact(parts[0]) if parts else None
        if f is None or not f.last_cjs:
            return ""
        return f", pin {f.name}@^{f.last_cjs.split('.')[0]} (last CommonJS release {f.last_cjs})"

    @staticmethod
    def _exports_note(exports) -> str:
        if not exports:
            return ""
        names = sorted(n for n in exports if n != "__esModule")
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        return f"; it exports {shown}"

    def _fixes(self, spec: str, mode: FileMode, target: NodeTarget, tla: bool) -> str:
        parts = []
        emit = mode.emit
        if emit is None or emit.module in ("node16", "node18", "node20", "nodenext"):
            parts.append(f"load it with `await import({spec!r})`")
        elif not emit.module:  # no tsconfig (or no "module" in it): say what to set, not `under ""`
            parts.append(f"load it with `await import({spec!r})`, compiled with tsconfig \"module\" set to "
                         f"\"node16\"/\"nodenext\" (under \"commonjs\" TypeScript turns import() into require())")
        else:
            parts.append(f"load it with `await import({spec!r})` after setting tsconfig \"module\" to "
                         f"\"node16\"/\"nodenext\" (under \"{emit.module}\" TypeScript turns import() "
                         f"into require())")
        pin = self._pin(spec)
        parts.append(pin[2:] if pin else "pin the last major of the package that ships CommonJS")
        parts.append("move this file or the project to ESM (.mjs/.mts, or \"type\": \"module\")")
        if not tla and not target.require_esm:
            parts.append(f"or {target.upgrade}, where require(esm) loads it")
        return "; ".join(parts)

    def _report_throw(self, site: Site, mode: FileMode, target: NodeTarget, outcome: resolver.Outcome) -> None:
        code = outcome.code
        res = outcome.resolved
        subject = self._subject(site, mode)
        spec = site.spec
        if code == "ERR_REQUIRE_ASYNC_MODULE":
            msg = (f"{subject} throws ERR_REQUIRE_ASYNC_MODULE on every Node version: "
                   f"{self._loads(res, outcome)}, and its module graph has {self._tla_note(outcome.tla)}, "
                   f"which require() cannot load even with require(esm). Fix: "
                   + self._fixes(spec, mode, target, tla=True))
        elif code == "ERR_PACKAGE_PATH_NOT_EXPORTED":
            msg = (f"{subject} throws ERR_PACKAGE_PATH_NOT_EXPORTED on every Node version: "
                   f"{self._what(spec, res)}: {outcome.why}. Fix: "
                   + self._fixes(spec, mode, target, tla=True))
        elif code == "SyntaxError" and outcome.fmt is not None and outcome.fmt.kind == "cjs-with-esm-syntax":
            msg = (f"{subject} throws a SyntaxError on every Node version: {self._what(spec, res)} resolves to "
                   f"{_rel(res.path)}, which Node loads as CommonJS but {outcome.fmt.why}. Fix: "
                   + self._fixes(spec, mode, target, tla=True))
        else:
            crash = "ERR_REQUIRE_ESM"
            if code != "ERR_REQUIRE_ESM":
                # module syntax in a .js file without "type": Node 22.7-22.11 detects it as ESM and
                # refuses it; older lines (and --no-experimental-require-module) parse it as CommonJS
                low = target.first_without
                if low is None or not (22, 7, 0) <= low < (22, 12, 0):
                    crash = "a SyntaxError (\"Cannot use import statement outside a module\")"
            also = ""
            if outcome.tla is not None:
                also = (f" (and its {self._tla_note(outcome.tla)} makes it throw ERR_REQUIRE_ASYNC_MODULE "
                        f"even where require(esm) is on)")
            msg = (f"{subject} throws {crash} on {target.describe()}: {self._loads(res, outcome)}{also}. Fix: "
                   + self._fixes(spec, mode, target, tla=outcome.tla is not None))
        self._emit(site.node, msg, Severity.ERROR)

    @staticmethod
    def _tla_note(tla) -> str:
        if tla is None:
            return "top-level await"
        chain = ""
        if len(tla.chain) > 1:
            chain = ", reached through " + " -> ".join(_rel(p) for p in tla.chain[:-1])
        return f"top-level await at {_rel(tla.path)}:{tla.line} (`{tla.text}`{chain})"

    @staticmethod
    def _caught(node) -> bool:
        """Inside the block of a `try` with a `catch`: the error is handled there."""
        child, p = node, node.parent
        while p is not None:
            if p.type == "try_statement" and p.child_by_field_name("body") == child \
                    and p.child_by_field_name("handler") is not None:
                return True
            if p.type in ("function_declaration", "function_expression", "arrow_function", "method_definition",
                          "function", "generator_function_declaration", "class_body", "program"):
                return False
            child, p = p, p.parent
        return False

    _pending = None

    def _emit(self, node, msg: str, severity: Severity, related=()) -> None:
        if self._pending is not None:
            keep, self._pending = self._pending(), None
            if not keep:
                return  # TypeScript drops this import: its bindings are only used as types
        if severity is Severity.ERROR and self._caught(node):
            # an optional dependency probed in try/catch: no crash, but the fallback always runs
            severity = Severity.WARNING
            msg += (". It is inside try/catch, so the program does not crash, but the catch branch "
                    "always runs: the package is never used")
        self.report(node, msg, related=related, severity=severity.value)

    # ---------------------------------------------------------------- CommonJS-style use

    def _cjs_style_use(self, site: Site, mode: FileMode, exports, root, data: bytes):
        """(node, description) of a use that breaks on a namespace, or None."""
        if site.kind == "import_equals":
            name = self._equals_name(site)
            return self._binding_use(name, site.node, exports, root, data) if name else None
        if site.kind not in ("require", "created"):
            return None  # TypeScript's interop helpers handle the namespace
        call = site.node
        parent = call.parent
        while parent is not None and parent.type == "parenthesized_expression":
            call, parent = parent, parent.parent
        if parent is None:
            return None
        if parent.type == "call_expression" and parent.child_by_field_name("function") == call:
            return parent, f"calling `{self.text(parent.child_by_field_name('function'))}(...)` throws a TypeError"
        if parent.type == "new_expression" and parent.child_by_field_name("constructor") == call:
            return parent, "`new` on it throws a TypeError"
        if parent.type in ("member_expression", "subscript_expression"):
            prop = self._prop_name(parent)
            if prop is not None and self._missing(prop, exports):
                return parent, f"`.{prop}` is undefined (not an export), a TypeError when used"
            return None
        if parent.type == "variable_declarator" and parent.child_by_field_name("value") == call:
            pattern = parent.child_by_field_name("name")
            if pattern is None:
                return None
            if pattern.type == "identifier":
                return self._binding_use(pattern.text.decode(), parent, exports, root, data)
            if pattern.type == "object_pattern":
                for c in pattern.named_children:
                    key = None
                    if c.type == "shorthand_property_identifier_pattern":
                        key = c.text.decode()
                    elif c.type == "pair_pattern":
                        k = c.child_by_field_name("key")
                        key = _string_value(k) if k is not None and k.type == "string" else self.text(k)
                    elif c.type == "object_assignment_pattern":
                        left = c.child_by_field_name("left")
                        key = self.text(left)
                    if key and self._missing(key, exports):
                        return c, f"the destructured `{key}` is undefined (not an export), a TypeError when used"
        if parent.type == "assignment_expression" and parent.child_by_field_name("right") == call:
            left = parent.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                return self._binding_use(left.text.decode(), parent, exports, root, data)
        return None

    @staticmethod
    def _prop_name(node) -> str | None:
        if node.type == "member_expression":
            p = node.child_by_field_name("property")
            return p.text.decode() if p is not None and p.type in ("property_identifier", "private_property_identifier") else None
        idx = node.child_by_field_name("index")
        return _string_value(idx)

    @staticmethod
    def _missing(prop: str, exports) -> bool:
        if prop in ("__esModule", "then", "constructor", "toString", "valueOf", "hasOwnProperty"):
            return False
        if exports is None:
            return False  # cannot know
        return prop not in exports

    def _binding_use(self, name: str, decl, exports, root, data: bytes):
        for ref in self._references(name, decl, root, data):
            if _in_type_context(ref):
                continue
            parent = ref.parent
            if parent is None:
                continue
            if parent.type == "call_expression" and parent.child_by_field_name("function") == ref:
                return parent, f"calling `{name}(...)` throws a TypeError"
            if parent.type == "new_expression" and parent.child_by_field_name("constructor") == ref:
                return parent, f"`new {name}(...)` throws a TypeError"
            if parent.type in ("member_expression", "subscript_expression") \
                    and parent.child_by_field_name("object") == ref:
                prop = self._prop_name(parent)
                if prop is not None and self._missing(prop, exports):
                    return parent, f"`{name}.{prop}` is undefined (not an export), a TypeError when used"
        return None

    # ---------------------------------------------------------------- relative TypeScript imports

    def _judge_ts_relative(self, site: Site, mode: FileMode, target: NodeTarget, directory: str) -> None:
        """`import x from './util.mjs'` in a CommonJS TypeScript file: the compiled
        `require('./util.mjs')` loads the compiled ES module."""
        source = _ts_source(os.path.normpath(os.path.join(directory, site.spec)))
        if source is None:
            if site.spec.endswith((".mjs", ".cjs", ".js", ".json")):
                # a JavaScript file next to the sources: ask Node's resolver
                outcome = resolver.require_outcome(site.spec, directory, target.require_esm)
                if outcome.status == "throws":
                    self._report_throw(site, mode, target, outcome)
            return
        other = emit_mode(source)
        if other.mode != "esm" or target.require_esm:
            return
        msg = (f"{self._subject(site, mode)} throws ERR_REQUIRE_ESM on {target.describe()}: {_rel(source)} "
               f"compiles to an ES module ({other.why}). Fix: load it with `await import()` under "
               f"\"module\": \"node16\"/\"nodenext\", make it CommonJS, or move this file to ESM")
        self._emit(site.node, msg, Severity.ERROR)

    # ---------------------------------------------------------------- without node_modules

    def _judge_from_lockfile(self, site: Site, mode: FileMode, target: NodeTarget, directory: str,
                             root, data: bytes) -> None:
        parts = split_package(site.spec)
        if parts is None:
            return
        name = parts[0]
        f = fact(name)
        if f is None:
            return
        locked = locked_version(name, directory)
        if locked is None:
            return
        m = major(locked.version)
        if m is None or not f.esm_only(m):
            return
        installed = node_modules_paths(directory)
        missing = ("node_modules is not installed" if not installed else
                   f"{name} is not installed in {_rel(installed[0])}")
        precision = (f" [lower precision: {missing}; version {locked.version} from {locked.source}; "
                     f"cnlint's table of well-known packages says {name} {f.esm_since}+ is ESM-only]")
        subject = self._subject(site, mode)
        what = f"{name}@{locked.version}"
        if f.has_tla(m) and target.require_esm:
            msg = (f"{subject} throws ERR_REQUIRE_ASYNC_MODULE on every Node version: the ES module graph of "
                   f"{what} has top-level await. Fix: " + self._fixes(site.spec, mode, target, tla=True))
            self._emit(site.node, msg + precision, Severity.ERROR)
            return
        if not target.require_esm:
            msg = (f"{subject} throws ERR_REQUIRE_ESM on {target.describe()}: {what} is ESM-only. Fix: "
                   + self._fixes(site.spec, mode, target, tla=f.has_tla(m)))
            self._emit(site.node, msg + precision, Severity.ERROR)
            return
        use = self._cjs_style_use(site, mode, None, root, data)
        if use is None:
            return
        node_use, how = use
        msg = (f"{subject} returns the ES module namespace of {what} on {target.describe()}, not a CommonJS "
               f"export: {how}. Fix: use `require({site.spec!r}).default` or a "
               f"named export, `await import({site.spec!r})`{self._pin(site.spec)}, or move this file to ESM")
        self._emit(site.node, msg + precision, Severity.WARNING, related=[(node_use, "CommonJS-style use of the namespace")])


_TS_MAP = {".js": (".ts", ".tsx"), ".mjs": (".mts",), ".cjs": (".cts",), ".jsx": (".tsx",)}


def _ts_source(base: str) -> str | None:
    """The TypeScript source a relative import names (`./a.js` -> `./a.ts`)."""
    root, ext = os.path.splitext(base)
    if ext in _TS_MAP:
        for e in _TS_MAP[ext]:
            if is_file(root + e):
                return root + e
        return None
    if ext in (".ts", ".tsx", ".mts", ".cts") and is_file(base):
        return base
    for e in (".ts", ".tsx", ".d.ts"):
        if is_file(base + e):
            return None if e == ".d.ts" else base + e
    for e in (".ts", ".tsx"):
        if is_file(os.path.join(base, "index" + e)):
            return os.path.join(base, "index" + e)
    return None
