"""Which language a file is, by extension or shebang."""

from __future__ import annotations

import os
import re

GO = "go"
JAVASCRIPT = "javascript"
TYPESCRIPT = "typescript"
TSX = "tsx"
PYTHON = "python"

ALL = (GO, JAVASCRIPT, TYPESCRIPT, TSX, PYTHON)
#: TypeScript, TSX and JavaScript share most rules; a rule names this tuple.
JS_TS = (JAVASCRIPT, TYPESCRIPT, TSX)

#: Names a rule or config may use for a group of languages.
ALIASES = {"js": (JAVASCRIPT,), "ts": (TYPESCRIPT, TSX), "jsts": JS_TS, "py": (PYTHON,)}

EXTENSIONS = {
    ".go": GO,
    ".js": JAVASCRIPT,
    ".jsx": JAVASCRIPT,
    ".mjs": JAVASCRIPT,
    ".cjs": JAVASCRIPT,
    ".ts": TYPESCRIPT,
    ".mts": TYPESCRIPT,
    ".cts": TYPESCRIPT,
    ".tsx": TSX,
    ".py": PYTHON,
    ".pyi": PYTHON,
}

_SHEBANG = re.compile(rb"^#![^\n]*?\b(?:env\s+(?:-\S+\s+)*)?(python[0-9.]*|node|nodejs|deno|bun|ts-node|tsx)\b")


def detect(path: str, head: bytes | None = None) -> str | None:
    """Language of ``path``; ``head`` (the file's first bytes) is used for shebangs."""
    ext = os.path.splitext(path)[1].lower()
    if ext in EXTENSIONS:
        # .d.ts declaration files are TypeScript too; nothing special needed.
        return EXTENSIONS[ext]
    if ext == "" and head is not None and head.startswith(b"#!"):
        m = _SHEBANG.match(head)
        if m:
            interp = m.group(1).decode()
            if interp.startswith("python"):
                return PYTHON
            if interp in ("ts-node", "tsx"):
                return TYPESCRIPT
            return JAVASCRIPT
    return None


def expand(names) -> tuple[str, ...]:
    out: list[str] = []
    for n in names:
        for lang in ALIASES.get(n, (n,)):
            if lang not in ALL:
                raise ValueError(f"unknown language {n!r} (known: {', '.join(ALL + tuple(ALIASES))})")
            if lang not in out:
                out.append(lang)
    return tuple(out)
