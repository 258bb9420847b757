"""Parquet without a working pyarrow: the message says which of the two cases it is."""

from __future__ import annotations

import builtins
import sys

import pytest

from workbench.core.base.errors import WorkbenchError
from workbench.core.data.readers import import_pyarrow


def _failing_import(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == missing or name.startswith(missing + "."):
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return real_import(name, *args, **kwargs)

    for module in [m for m in list(sys.modules) if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_no_pyarrow_says_how_to_install_it(monkeypatch):
    _failing_import("pyarrow", monkeypatch)
    with pytest.raises(WorkbenchError, match="needs the optional pyarrow package"):
        import_pyarrow()


def test_a_broken_pyarrow_names_what_failed(monkeypatch):
    _failing_import("pyarrow._parquet", monkeypatch)
    with pytest.raises(WorkbenchError, match=r"installed but could not be loaded .*pyarrow\._parquet"):
        import_pyarrow()
