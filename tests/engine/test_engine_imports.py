"""import-linter cannot forbid a submodule of an external package, so check the engine's imports here."""

from __future__ import annotations

import ast
from pathlib import Path

import workbench.engine

FORBIDDEN = ("PySide6.QtWidgets", "PySide6.QtGui", "pyqtgraph", "torch", "transformers")


def test_engine_imports_no_widgets_and_no_torch_at_module_level():
    for path in Path(workbench.engine.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: lazy imports inside functions are allowed for torch
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
