"""A run's lifecycle without the command line or the window: rename, measure, delete with its files;
what the runs table shows of it, and the settings that differ between runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import make_runs_project

from workbench.core.base.errors import InvalidSpecError, ReadOnlyProjectError, RunInUseError
from workbench.core.ops.run_lifecycle import delete_run, rename_run, run_disk_usage, run_folder
from workbench.core.ops.run_summary import run_summaries, settings_diff
from workbench.core.project.run_lock import RunLock
from workbench.core.project.store import ProjectStore


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_runs_project(tmp_path_factory.mktemp("runs") / "base.wbproj")


@pytest.fixture
def project(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def test_rename_checks_the_name_and_keeps_the_folder(project):
    with ProjectStore.open(project) as store:
        folder = run_folder(store, store.get_run("gpt2"))
        renamed = rename_run(store, "gpt2", "  baseline ")
        assert renamed["name"] == "baseline" and run_folder(store, renamed) == folder
        for bad, why in (("", "cannot be empty"), ("bert", "already exists"), ("a\nb", "printable")):
            with pytest.raises(InvalidSpecError, match=why):
                rename_run(store, "baseline", bad)
        assert [r["name"] for r in store.list_runs()] == ["baseline", "bert", "lstm"]


def test_delete_removes_rows_and_files_and_says_what_it_freed(project):
    with ProjectStore.open(project) as store:
        run = store.get_run("bert")
        folder = run_folder(store, run)
        size = run_disk_usage(store, run["id"])
        assert size > 0 and store.list_checkpoints(run["id"]) and store.metrics(run["id"])
        assert delete_run(store, "bert") == size
        assert not folder.exists()
        assert [r["name"] for r in store.list_runs()] == ["gpt2", "lstm"]
        for table in ("metrics", "checkpoints", "samples"):
            assert not store.query(f"SELECT id FROM {table} WHERE run_id = ?", (run["id"],))
        assert run_folder(store, store.get_run("gpt2")).is_dir()  # the others keep theirs


def test_delete_is_refused_while_a_process_trains_the_run(project):
    with ProjectStore.open(project) as store:
        run = store.get_run("lstm")
        with RunLock(project, run["id"], "lstm"), pytest.raises(RunInUseError, match="being trained"):  # its trainer's lock
            delete_run(store, "lstm")
        assert run_folder(store, run).is_dir() and store.get_run("lstm")
    with ProjectStore.open(project, read_only=True) as store, pytest.raises(ReadOnlyProjectError):
        delete_run(store, "lstm")


def test_summaries_give_the_tables_columns(project):
    with ProjectStore.open(project) as store:
        summaries = run_summaries(store)
        gpt2 = summaries[store.get_run("gpt2")["id"]]
        assert gpt2.lr == pytest.approx(3e-3) and gpt2.batch == 4 and gpt2.tokenizer == "chars"
        assert gpt2.params is not None and 10_000 < gpt2.params < 100_000  # 2 layers of width 32
        assert gpt2.tokens_per_s and gpt2.tokens_per_s > 0
        assert gpt2.duration_s is not None and gpt2.duration_s >= 0


def test_settings_diff_lists_only_what_differs(project):
    with ProjectStore.open(project) as store:
        runs = [store.get_run("gpt2"), store.get_run("lstm")]
        diff = dict(settings_diff(store, runs))
        assert diff["model.arch"] == ("gpt2", "lstm")
        assert "train.lr" not in diff and "dataset" not in diff  # the same in both
        assert settings_diff(store, runs[:1]) == []
        store.update("runs", runs[1]["id"], train_spec={**runs[1]["train_spec"], "lr": 0.01})
        diff = dict(settings_diff(store, [runs[0], store.get_run("lstm")]))
        assert diff["train.lr"] == (pytest.approx(3e-3), 0.01)


def test_disk_use_is_walked_again_only_when_the_run_changed(project, monkeypatch):
    """The runs table refreshes every 2 s while training: a run folder is measured again only when its
    status, step or checkpoints changed, and the figure then follows the change."""
    from workbench.core.ops import run_summary
    from workbench.core.project.checkpoint_history import delete_checkpoint, list_checkpoints

    walks: list[int] = []
    real = run_summary.run_disk_usage
    monkeypatch.setattr(run_summary, "run_disk_usage", lambda store, run_id: walks.append(run_id) or real(store, run_id))
    with ProjectStore.open(project) as store:
        run = store.get_run("gpt2")
        before = run_summaries(store)[run["id"]].disk_bytes
        run_summaries(store)
        assert walks.count(run["id"]) == 1 and before > 0
        spare = [c for c in list_checkpoints(store, run["id"], verify=False)
                 if not (c.is_latest or c.is_best or c.pinned)]
        if not spare:
            pytest.skip("the sample run kept no checkpoint that may be deleted")
        freed = delete_checkpoint(store, run["id"], spare[0].step)
        assert run_summaries(store)[run["id"]].disk_bytes == before - freed
        assert walks.count(run["id"]) == 2
