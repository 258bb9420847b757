"""Where the GUI keeps its settings, logs and data, and the list of recent projects.

`WORKBENCH_HOME`, when set, holds everything in one folder (`settings.ini`, `logs/`, `data/`):
tests and portable installs use it. Otherwise platformdirs' places for "lm-workbench" are used: the
user config folder (`settings.ini`), the user log folder and the user data folder. An INI file
rather than QSettings' native store (the registry on Windows) so settings sit beside the logs, in a
place a person can find, back up or delete.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from workbench import APP_ID, APP_NAME

ORG_NAME = APP_ID
MAX_RECENT = 8
RECENT_KEY = "projects/recent"


def workbench_home() -> Path | None:
    home = os.environ.get("WORKBENCH_HOME", "").strip()
    return Path(home).expanduser() if home else None


def log_dir() -> Path:
    home = workbench_home()
    if home is not None:
        return home / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(ORG_NAME, appauthor=False))


def data_dir() -> Path:
    home = workbench_home()
    if home is not None:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(ORG_NAME, appauthor=False))


def app_settings() -> QSettings:
    """The GUI's settings (window layout, recent projects, preferences)."""
    home = workbench_home()
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        return QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    import platformdirs

    folder = Path(platformdirs.user_config_dir(ORG_NAME, appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.ini"
    first_time = not path.exists()
    ini = QSettings(str(path), QSettings.Format.IniFormat)
    if first_time:
        _copy_native_settings(ini)
    return ini


def _copy_native_settings(ini: QSettings) -> None:
    """Earlier versions kept settings in QSettings' native store (the registry on Windows): carry
    recent projects and the window layout over once, the first time the INI file is made."""
    native = QSettings(ORG_NAME, APP_NAME)
    for key in native.allKeys():
        ini.setValue(key, native.value(key))
    ini.sync()


def recent_projects() -> list[str]:
    value = app_settings().value(RECENT_KEY, [])
    if isinstance(value, str):  # INI files give back a one-item list as a plain string
        value = [value]
    return [str(p) for p in value or [] if p]


def add_recent_project(path: str | Path) -> list[str]:
    entry = str(Path(path).resolve())
    recent = [entry, *(p for p in recent_projects() if p != entry)][:MAX_RECENT]
    app_settings().setValue(RECENT_KEY, recent)
    return recent


def remove_recent_project(path: str | Path) -> list[str]:
    entry = str(Path(path).resolve())
    recent = [p for p in recent_projects() if p != entry]
    app_settings().setValue(RECENT_KEY, recent)
    return recent
