"""Crash reports on disk: what a report says, pruning, and faulthandler's file through a real hard crash."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from workbench import __version__
from workbench.ui import crash_reports

# A process that records native faults like the app does, then ends the way argv[2] says.
FAULTING_APP = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from workbench.ui.crash_reports import FaultLog

    log = FaultLog.start(Path(sys.argv[1]))
    print(log.path, flush=True)
    how = sys.argv[2]
    if how == "abort":
        os.abort()
    elif how == "segfault":
        import ctypes
        ctypes.string_at(0)
    elif how == "killed":
        os._exit(9)  # like SIGKILL or a power cut: no clean exit, and no fault either
    else:
        log.stop()
""")


def _no_core_dumps() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_faulting_app(folder: Path, how: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", FAULTING_APP, str(folder), how], capture_output=True, text=True,
                          timeout=60, preexec_fn=_no_core_dumps if os.name == "posix" else None)


def test_reports_live_under_the_log_folder(workbench_home):
    assert crash_reports.reports_dir() == workbench_home / "logs" / "crash-reports"


def test_a_report_names_versions_platform_project_and_the_traceback(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.delitem(sys.modules, "transformers", raising=False)
    path = crash_reports.write_report("KeyError: 'x'\n(second line)", "Traceback (most recent call last):\n"
                                      "  File \"/home/me/<b>odd</b>.py\", line 1\nKeyError: 'x'", "doomed",
                                      project="poems.wbproj")
    text = path.read_text(encoding="utf-8")
    assert path.parent == crash_reports.reports_dir()
    assert path.name.startswith("crash-") and path.suffix == ".txt"
    for expected in ("Error: KeyError: 'x' (second line)\n", "Thread: doomed\n", f"LM Workbench {__version__}",
                     "Time: ", f"Python: {sys.version.split()[0]}", "System: ", "Frozen: no\n", "Qt: 6.",
                     "Project: poems.wbproj\n", "<b>odd</b>.py", text.splitlines()[-1]):
        assert expected in text, expected
    assert text.rstrip().endswith("KeyError: 'x'")
    # torch and transformers are named only when the app had loaded them, and never imported for it
    assert "PyTorch" not in text and "transformers" not in text
    assert "torch" not in sys.modules and "transformers" not in sys.modules


def test_loaded_torch_and_a_frozen_app_are_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(__version__="2.99.0+cpu"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    text = crash_reports.write_report("RuntimeError: boom", "Traceback\nRuntimeError: boom").read_text("utf-8")
    assert "PyTorch: 2.99.0+cpu\n" in text and "Frozen: yes" in text


def test_reports_in_the_same_second_get_numbered(tmp_path):
    first, handle = crash_reports._create_exclusive(tmp_path, "crash-20250101-120000")
    handle.close()
    second, handle = crash_reports._create_exclusive(tmp_path, "crash-20250101-120000")
    handle.close()
    assert (first.name, second.name) == ("crash-20250101-120000.txt", "crash-20250101-120000-2.txt")


def _old_reports(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"crash-20240101-0000{i:02d}.txt"
        path.write_text(f"LM Workbench crash report\n\nError: ValueError: number {i}\n", encoding="utf-8")
        os.utime(path, (1_700_000_000 + i * 60, 1_700_000_000 + i * 60))
        paths.append(path)
    return paths


def test_the_list_is_newest_first_and_pruning_keeps_twenty():
    folder = crash_reports.reports_dir()
    paths = _old_reports(folder, 24)
    listed = crash_reports.list_reports()
    assert [r.path for r in listed] == paths[::-1]
    assert listed[0].summary == "ValueError: number 23"
    removed = crash_reports.prune()
    assert sorted(removed) == paths[:4]
    assert len(crash_reports.list_reports()) == crash_reports.MAX_REPORTS
    # a new report prunes too: the oldest left goes
    new = crash_reports.write_report("OSError: disk", "Traceback\nOSError: disk")
    listed = crash_reports.list_reports()
    assert len(listed) == crash_reports.MAX_REPORTS and listed[0].path == new
    assert not paths[4].exists() and paths[5].exists()


@pytest.mark.parametrize("how, fatal", [("abort", "Fatal Python error: Aborted"),
                                        ("segfault", "Fatal Python error: Segmentation fault")])
def test_a_hard_crash_leaves_a_report_that_the_list_finds(tmp_path, how, fatal):
    if os.name != "posix":
        pytest.skip("the fault names differ on Windows")
    folder = tmp_path / "crash-reports"
    result = run_faulting_app(folder, how)
    assert result.returncode != 0
    fault_file = Path(result.stdout.strip())
    assert fault_file.parent == folder and fault_file.name.startswith("fault-")
    [report] = crash_reports.list_reports(folder)
    assert report.path == fault_file and report.summary == fatal
    text = fault_file.read_text(encoding="utf-8")
    assert f"LM Workbench {__version__}" in text and "File \"<string>\"" in text  # the Python stack of the crash
    # a report is kept at the next start
    log = crash_reports.FaultLog.start(folder)
    log.stop()
    assert [r.path for r in crash_reports.list_reports(folder)] == [fault_file]


def test_a_clean_exit_leaves_no_fault_file(tmp_path):
    folder = tmp_path / "crash-reports"
    result = run_faulting_app(folder, "clean")
    assert result.returncode == 0, result.stderr
    assert not Path(result.stdout.strip()).exists()
    assert list(folder.iterdir()) == [] and crash_reports.list_reports(folder) == []


def test_empty_fault_files_of_ended_processes_go_at_the_next_start(tmp_path):
    folder = tmp_path / "crash-reports"
    result = run_faulting_app(folder, "killed")
    leftover = Path(result.stdout.strip())
    assert result.returncode == 9 and leftover.exists()
    assert crash_reports.list_reports(folder) == []  # a header alone is no report
    log = crash_reports.FaultLog.start(folder)
    try:
        assert not leftover.exists()
        assert log.path.exists() and f"-p{os.getpid()}" in log.path.name
        # this process's own (empty) file is not removed while it runs, nor listed
        assert crash_reports.remove_stale_fault_files(folder) == []
        assert crash_reports.list_reports(folder) == []
    finally:
        log.stop()
    assert not log.path.exists()


# The app itself (run_app), with a segfault in its event loop when argv[1] says so.
APP_THAT_MAY_CRASH = textwrap.dedent("""
    import ctypes, sys
    from PySide6.QtCore import QTimer
    from workbench import app

    def create_application(argv=None, _create=app.create_application):
        qt_app = _create(argv)
        if sys.argv[1] == "segfault":
            QTimer.singleShot(0, lambda: ctypes.string_at(0))
        return qt_app

    app.create_application = create_application
    sys.exit(app.run_app())
""")


@pytest.mark.parametrize("how", ["segfault", "clean"])
def test_the_app_records_native_faults_from_its_start(how):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WORKBENCH_STARTUP_PROBE": "1"}
    result = subprocess.run([sys.executable, "-c", APP_THAT_MAY_CRASH, how], capture_output=True, text=True,
                            timeout=120, env=env, preexec_fn=_no_core_dumps if os.name == "posix" else None)
    folder = crash_reports.reports_dir()
    assert folder.is_dir()
    if how == "clean":
        assert result.returncode == 0, result.stderr[-2000:]
        assert list(folder.iterdir()) == []
        return
    assert result.returncode != 0
    [report] = crash_reports.list_reports()
    assert report.path.name.startswith("fault-") and "Segmentation fault" in report.summary
    assert "in run_app" in report.path.read_text(encoding="utf-8")
