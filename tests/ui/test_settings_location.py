"""Settings live in an INI file in platformdirs' user config folder; older native settings carry over."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from workbench.ui import settings


def test_settings_go_to_the_user_config_folder_and_old_ones_carry_over(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv("WORKBENCH_HOME", raising=False)
    config = tmp_path / "config"
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *args, **kwargs: str(config / "lm-workbench"))
    native_root = tmp_path / "native"
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(native_root))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(native_root))
    old = QSettings(settings.ORG_NAME, settings.APP_NAME)
    old.setValue(settings.RECENT_KEY, ["/projects/a.wbproj", "/projects/b.wbproj"])
    old.sync()

    assert settings.recent_projects() == ["/projects/a.wbproj", "/projects/b.wbproj"]
    assert (config / "lm-workbench" / "settings.ini").is_file()
    settings.add_recent_project(tmp_path / "c.wbproj")
    assert settings.recent_projects()[0] == str((tmp_path / "c.wbproj").resolve())
    old.setValue(settings.RECENT_KEY, ["/projects/changed-later.wbproj"])  # copied once, not again
    old.sync()
    assert "/projects/changed-later.wbproj" not in settings.recent_projects()
