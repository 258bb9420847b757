"""The dataset panel in light and dark, every tab, plus the import dialog: PNGs to look at.

Set WORKBENCH_SHOTS=/some/folder to keep them (they go to the test's tmp folder otherwise). The
asserts check what a picture would show wrong: token colours that do not alternate or do not
follow the theme, plots that keep a light background in dark mode.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from shared_data import SHAKESPEARE

from workbench.core.base.events import Progress, run_to_end
from workbench.core.project.store import ProjectStore
from workbench.ui import theme

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                                        "This plugin does not support raise")]  # a floating dock

SHAKE = SHAKESPEARE  # the shared 1.1 MB text


def drive(gen):
    """Run a core generator to its end; its return value."""
    return run_to_end(gen)[1]




@pytest.fixture
def rich_project(tmp_path: Path) -> Path:
    """Documents with duplicates and short ones (so warnings show), a char and a BPE tokenizer."""
    from workbench.core.base.specs import DatasetSpec, TokenizerSpec
    from workbench.core.ops.catalog import create_tokenizer, import_into_project

    text = SHAKE.read_text(encoding="utf-8")[:120_000] if SHAKE.is_file() else \
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\n" * 800
    lines = [p for p in text.split("\n\n") if p.strip()]
    source = tmp_path / "plays.jsonl"
    with open(source, "w", encoding="utf-8") as fh:
        for line in lines + lines[:40] + ["ok", "no"]:
            fh.write(json.dumps({"speech": line, "n": 1}) + "\n")
    path = tmp_path / "shots.wbproj"
    with ProjectStore.create(path) as store:
        drive(import_into_project(store, [source], DatasetSpec(name="plays", field="speech")))
        drive(create_tokenizer(store, "plays", TokenizerSpec(name="plays-char", kind="char")))
        drive(create_tokenizer(store, "plays", TokenizerSpec(name="plays-bpe-512", kind="bpe", vocab_size=512)))
    return path


def test_dataset_panel_light_and_dark(qtbot, window, rich_project, shots, restore_light, tmp_path):
    app = QApplication.instance()
    assert window.open_project(rich_project)
    panel = window.panels.dataset
    panel.datasets.select_key(panel.datasets.keys()[0])
    lab = panel.lab
    ids = [panel.tokenizer_id("plays-char"), panel.tokenizer_id("plays-bpe-512")]
    lab.select_tokenizer("a", ids[0])
    lab.select_tokenizer("b", ids[1])
    lab.encode_now()
    qtbot.waitUntil(lambda: all(c.result is not None for c in lab.columns.values()), timeout=60_000)
    assert lab.columns["a"].view.token_count() > lab.columns["b"].view.token_count()
    assert panel.stats.warning_texts, "the duplicates should be warned about"

    window.resize(1360, 860)
    dock = window.docks["dataset"]
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        dark = theme.apply_color_scheme(app, scheme)
        qtbot.wait(30)
        dock.setFloating(False)
        qtbot.wait(10)
        assert window.grab().save(str(shots / f"dataset_window_{name}.png"))
        dock.setFloating(True)
        dock.resize(600, 860)
        for index, tab in enumerate(("datasets", "samples", "tokenizers")):
            panel.tabs.setCurrentIndex(index)
            qtbot.wait(30)
            assert panel.grab().save(str(shots / f"dataset_{tab}_{name}.png"))
        assert panel.stats.widget().grab().save(str(shots / f"dataset_stats_all_{name}.png"))  # unscrolled
        panel.begin_job("Importing big-corpus")  # how a running job looks (no job behind it here)
        panel.show_job_events([Progress("read", 3_500_000, 10_000_000)])
        qtbot.wait(10)
        assert panel.grab().save(str(shots / f"dataset_job_{name}.png"))
        assert panel.job_bar.progress.value() == 350 and not panel.import_button.isEnabled()
        panel.end_job()
        chart = panel.stats.characters_chart
        assert (chart.backgroundBrush().color().lightness() < 128) == dark
        view = lab.columns["a"].view
        assert (view.palette().color(view.backgroundRole()).lightness() < 128) == dark

        source = tmp_path / "preview.jsonl"
        source.write_text("\n".join(json.dumps({"title": f"t{i}", "text": f"Record {i}\nwith two lines"})
                                    for i in range(10)), encoding="utf-8")
        dialog = panel.open_import_dialog([source])
        dialog.name.edit.setText("plays")  # taken: the inline message shows
        qtbot.wait(30)
        assert dialog.grab().save(str(shots / f"import_dialog_{name}.png"))
        dialog.reject()
    dock.setFloating(False)
