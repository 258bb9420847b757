"""Missing X11 libraries give a message naming the package instead of Qt's abort."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.ui import system_libs

QT_ERROR = ("libxcb-cursor.so.0: cannot open shared object file: No such file or directory")


def _refuse(message: str):
    def load(path: Path) -> None:
        raise OSError(message)
    return load


def test_a_missing_xcb_library_is_named_with_its_package(tmp_path):
    message = system_libs.missing_library_message({"DISPLAY": ":0"}, _refuse(QT_ERROR), tmp_path / "libqxcb.so")
    assert "libxcb-cursor.so.0 is missing" in message
    assert "sudo apt install libxcb-cursor0" in message and "xcb-util-cursor" in message


def test_an_unknown_library_is_named_without_a_guess(tmp_path):
    message = system_libs.missing_library_message(
        {}, _refuse("libfoo-bar.so.3: cannot open shared object file"), tmp_path / "libqxcb.so")
    assert "libfoo-bar.so.3 is missing" in message and "provides libfoo-bar.so.3" in message


def test_other_load_errors_and_loaded_plugins_say_nothing(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    assert system_libs.missing_library_message({}, _refuse("wrong ELF class: ELFCLASS32"), plugin) == ""
    assert system_libs.missing_library_message({}, lambda path: None, plugin) == ""


@pytest.mark.parametrize(("env", "expected"), [
    ({}, True),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland", "QT_QPA_PLATFORM": "xcb"}, True),
])
def test_only_the_x11_plugin_is_checked(env, expected):
    assert system_libs.uses_xcb(env, platform="linux") is expected
    assert system_libs.uses_xcb(env, platform="win32") is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 plugin exists on Linux only")
def test_the_real_plugin_is_judged_as_the_system_loads_it():
    """On the real plugin: a message exactly when the dynamic loader refuses it, naming the library
    the loader names (this machine lacks libxcb-icccm4; one with every library gets no message)."""
    plugin = system_libs.xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    probe = ("import ctypes, sys\ntry:\n    ctypes.CDLL(sys.argv[1])\nexcept OSError as e:\n    print(e)")
    refusal = subprocess.run([sys.executable, "-c", probe, str(plugin)], capture_output=True, text=True,
                             timeout=60).stdout.strip()
    check = "from workbench.ui.system_libs import missing_library_message as m; print(m({'QT_QPA_PLATFORM': 'xcb'}))"
    message = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60).stdout.strip()
    if refusal:
        assert message and refusal.split(":")[0] in message
    else:
        assert message == ""


def test_the_gui_command_stops_with_the_message(monkeypatch, capsys):
    from workbench import cli

    monkeypatch.setattr(system_libs, "missing_library_message", lambda: "the system library libX is missing")
    monkeypatch.setattr(system_libs, "tell_desktop", lambda message: None)
    assert cli.main(["gui"]) == 2
    assert capsys.readouterr().err == "error: the system library libX is missing\n"


def test_the_loader_message_is_found_behind_pyinstallers_ctypes_error(tmp_path):
    """Inside the bundle, ctypes.CDLL raises PyInstaller's own OSError ("Failed to load dynlib/dll")
    *from* the loader's error: the library is named all the same."""
    def bundled_load(path: Path) -> None:
        try:
            raise OSError(QT_ERROR)
        except OSError as loader_error:
            raise OSError(f"Failed to load dynlib/dll {str(path)!r}. Most likely this dynlib/dll was not "
                          "found when the application was frozen.") from loader_error

    message = system_libs.missing_library_message({}, bundled_load, tmp_path / "libqxcb.so")
    assert "libxcb-cursor.so.0 is missing" in message
