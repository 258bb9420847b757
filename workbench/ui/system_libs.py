"""Before the window: is every system library Qt's X11 plugin needs installed (Linux)?

Qt 6's `xcb` platform plugin links against X11 helper libraries that many desktops do not install
(`libxcb-cursor0` above all). Without one, Qt prints "could not load the Qt platform plugin xcb" and
aborts the process: a double-click does nothing at all. `missing_library_message()` loads the
plugin the way Qt will, and when the system refuses it, names the library and the package that
provides it, so the user gets one line to act on (and a dialog from the desktop's own tools, where
there are any, for an app started without a terminal).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# Library file name -> the package that installs it: (Debian and Ubuntu, Fedora and Arch).
PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}
_MISSING = re.compile(r"(lib[\w.+-]+\.so(?:\.\d+)*): cannot open shared object file")


def uses_xcb(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will use its X11 plugin: on Linux, when asked to or when no Wayland session is there."""
    if not platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked == "xcb"
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland")


def xcb_plugin() -> Path | None:
    """Qt's X11 platform plugin in this installation (or bundle), if there is one."""
    try:
        import PySide6  # the package only: Qt itself loads later
    except ImportError:
        return None
    root = Path(PySide6.__file__).parent
    for plugins in (root / "Qt" / "plugins", root / "plugins"):
        plugin = plugins / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def _load(path: Path) -> None:
    ctypes.CDLL(str(path))


def missing_library_message(env: Mapping[str, str] | None = None,
                            load: Callable[[Path], None] = _load, plugin: Path | None = None) -> str:
    """"" when the window can start; else what is missing and how to install it."""
    env = os.environ if env is None else env
    if not uses_xcb(env):
        return ""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return ""
    try:
        load(plugin)
    except OSError as exc:
        found = _MISSING.search(_loader_words(exc))
        if not found:
            return ""  # not a missing library: let Qt say what it is
        library = found.group(1)
        if library in PACKAGES:
            debian, other = PACKAGES[library]
            install = (f"install the package {debian} (Debian, Ubuntu: `sudo apt install {debian}`) "
                       f"or {other} (Fedora, Arch)")
        else:
            install = f"install the package that provides {library} with your package manager"
        return f"the window cannot start: the system library {library} is missing; {install}, then start LM Workbench again."
    return ""


def _loader_words(exc: BaseException) -> str:
    """The dynamic loader's own message: inside a PyInstaller bundle ctypes raises its own error
    ("Failed to load dynlib/dll ...") from the loader's, which names the missing library."""
    words = []
    seen: BaseException | None = exc
    while seen is not None and len(words) < 5:
        words.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return "\n".join(words)


def tell_desktop(message: str) -> None:
    """Show `message` in a dialog drawn by the desktop's own tools (no Qt), where one is installed:
    the app may have been started by a double-click, with no terminal to print to."""
    for tool, args in (("zenity", ["--error", "--no-markup", "--title", "LM Workbench", "--text"]),
                       ("kdialog", ["--title", "LM Workbench", "--error"])):
        path = shutil.which(tool)
        if path:
            try:
                subprocess.Popen([path, *args, message], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError:
                continue
            return
