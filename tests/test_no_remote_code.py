"""Every transformers load in the app says `trust_remote_code=False` explicitly.

Left out (None), transformers asks "Do you wish to run the custom code? [y/N]" on the terminal for a
folder whose config has an `auto_map`, and a shared project can carry such a folder. This keeps a
new `from_pretrained` call from forgetting it (tests/cli/test_remote_code.py shows the behaviour).
"""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

PACKAGE = Path(workbench.__file__).parent


def _loads_without_false(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "from_pretrained":
            flags = [k.value for k in node.keywords if k.arg == "trust_remote_code"]
            if not (len(flags) == 1 and isinstance(flags[0], ast.Constant) and flags[0].value is False):
                lines.append(node.lineno)
    return lines


def test_every_from_pretrained_passes_trust_remote_code_false():
    missing = {str(path.relative_to(PACKAGE.parent)): lines for path in sorted(PACKAGE.rglob("*.py"))
               if (lines := _loads_without_false(ast.parse(path.read_text(encoding="utf-8"))))}
    assert not missing, f"from_pretrained without trust_remote_code=False: {missing}"


def test_the_check_sees_a_missing_flag():
    assert _loads_without_false(ast.parse("AutoConfig.from_pretrained(p, local_files_only=True)")) == [1]
    assert _loads_without_false(ast.parse("AutoConfig.from_pretrained(p, trust_remote_code=False)")) == []
