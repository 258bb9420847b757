"""The code reaches its own modules through plain imports only (DESIGN.md section 1), so that
import-linter and an editor's "find usages" see every use: no `importlib.import_module`, no
"module:function" strings, no module names built with f-strings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import workbench

DYNAMIC_IMPORTS = {"import_module", "__import__", "find_spec"}
# "workbench.core.x:function"; a bare package name stays allowed (importlib.resources reads assets by it)
TARGET = re.compile(r"^workbench(\.\w+)+:\w+$")


def _string_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in DYNAMIC_IMPORTS:
                found.append(f"line {node.lineno}: {name}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TARGET.match(node.value):
            found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and str(first.value).startswith("workbench."):
                found.append(f"line {node.lineno}: f-string {first.value!r}…")
    return found


def test_no_module_is_imported_by_a_string():
    root = Path(workbench.__file__).parent
    found = {str(path.relative_to(root)): hits for path in sorted(root.rglob("*.py"))
             if (hits := _string_imports(path))}
    assert found == {}


def test_the_check_finds_each_kind_of_string_import(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text('import importlib\n'
                      'TARGET = "workbench.core.ops.training:train"\n'
                      'importlib.import_module(f"workbench.commands.{name}")\n', encoding="utf-8")
    assert _string_imports(sample) == ["line 2: 'workbench.core.ops.training:train'",
                                       "line 3: import_module()", "line 3: f-string 'workbench.commands.'…"]
