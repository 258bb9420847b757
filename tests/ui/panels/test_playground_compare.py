"""Playground (issue 14, points 5-7): side by side, fill-mask for BERT runs and the surprise view, in
the real window on a project with tiny trained gpt2, bert and lstm runs."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import TINY_RUN, make_runs_project
from playground_helpers import open_playground
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor, QTextFormat
from PySide6.QtWidgets import QApplication

from workbench.cli import main
from workbench.core.base.specs import SampleSpec
from workbench.ui import theme
from workbench.ui.jobs import playground_jobs
from workbench.ui.panels.playground.fill_mask import best_guess, route
from workbench.ui.panels.playground.side_by_side import divergence

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = make_runs_project(tmp_path_factory.mktemp("compare") / "base.wbproj")  # gpt2, bert, lstm; steps 2, 4
    # After 4 steps every run is close to uniform, so with one seed they all draw the same letters:
    # a run trained longer (checkpoints at 20 and 40) gives a text that differs.
    longer = [str(a) for a in TINY_RUN]
    longer[longer.index("--max-steps") + 1], longer[longer.index("--eval-interval") + 1] = "40", "20"
    assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", "--arch", "gpt2", *longer,
                 "--name", "gpt2-long", "--json"]) == 0
    return root


@pytest.fixture
def runs(base: Path, tmp_path: Path) -> Path:
    playground_jobs.CACHE.clear()  # each test's copy is another project
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def background_at(edit, position: int):
    cursor = QTextCursor(edit.document())
    cursor.setPosition(position + 1)  # the format of the character before the cursor
    fmt = cursor.charFormat()
    return fmt.background().color().name() if fmt.hasProperty(QTextFormat.Property.BackgroundBrush) else None


# ---- pure parts ------------------------------------------------------------------------------------

def test_divergence_is_the_first_character_where_columns_disagree():
    assert divergence(["abc", "abc"], [False, False]) is None
    assert divergence(["abc", "abd"], [False, False]) == 2
    assert divergence(["abc", "ab"], [False, False]) is None  # the shorter one may still say "c"
    assert divergence(["abc", "ab"], [False, True]) == 2  # it ended where the other went on
    assert divergence(["abcx", "abdy", "ab"], [False] * 3) == 2
    assert divergence(["same"], [True]) is None


def test_generate_routes_bert_runs_to_fill_mask_and_refuses_mask_for_causal_runs():
    assert route("bert", "to be [MASK] not") == ("fill", "")
    assert route("gpt2", "to be or not") == ("generate", "")
    action, why = route("gpt2", "to be [MASK] not")
    assert action == "refuse" and "Fill-mask needs a BERT run" in why
    action, why = route("bert", "to be or not")
    assert action == "refuse" and "[MASK]" in why
    assert best_guess("a [MASK] b [MASK]", [[("x", 0.5)], [("y", 0.4)]]) == "a [x] b [y]"


# ---- side by side ----------------------------------------------------------------------------------

def compare(qtbot, window, columns: list[tuple[str, str]], prompt: str = "the king", tokens: int = 24):
    playground = window.panels.playground
    view = playground.side_by_side
    view.count.setValue(len(columns))
    for i, (run, checkpoint) in enumerate(columns):
        assert view.choose(i, run, checkpoint), (run, checkpoint)
    playground.prompt_edit.setPlainText(prompt)
    playground.max_tokens.setValue(tokens)
    playground.seed.setValue(7)
    assert view.request_compare()
    qtbot.waitUntil(lambda: not window.runner.is_busy("interactive") and bool(view.status.text()), timeout=120_000)
    return view


def test_two_columns_with_the_same_weights_and_seed_agree(qtbot, window, runs, shown_errors):
    open_playground(window, runs)
    view = compare(qtbot, window, [("gpt2", "latest"), ("gpt2", "4")])
    one, two = view.columns[0], view.columns[1]
    assert one.text and one.text == two.text and one.tokens == two.tokens  # the model may end before 24
    assert view.diverged_at is None and one.shade_from is None
    assert view.status.text() == "Same text in every column with seed 7."
    assert one.state.text() == f"gpt2, step 4: {one.tokens} tokens."
    assert one.output.toPlainText() == "the king" + one.text
    assert shown_errors == []


def test_columns_that_differ_are_shaded_from_the_first_differing_token(qtbot, window, runs, shown_errors):
    open_playground(window, runs)
    view = compare(qtbot, window, [("gpt2", "4"), ("gpt2-long", "20"), ("lstm", "latest")])
    texts = [c.text for c in view.columns[:3]]
    assert all(len(t) > 0 for t in texts) and len(set(texts)) > 1
    at = view.diverged_at
    assert at == divergence(texts, [True] * 3)
    for column in view.columns[:3]:
        prompt_end = len("the king")
        assert column.shade_from is not None and column.shade_from <= prompt_end + at
        assert background_at(column.output, 0) is None  # the prompt is never shaded
        if column.shade_from > prompt_end:
            assert background_at(column.output, column.shade_from - 1) is None  # the agreed text before it
        assert background_at(column.output, column.shade_from) is not None
        assert background_at(column.output, len(column.output.toPlainText()) - 1) is not None
    assert "shaded from the first token where the columns differ" in view.status.text()
    assert shown_errors == []


def test_a_bert_column_says_why_and_the_others_still_generate(qtbot, window, runs, shown_errors):
    open_playground(window, runs)
    view = compare(qtbot, window, [("gpt2", "latest"), ("bert", "latest"), ("lstm", "latest"), ("gpt2", "2")])
    assert view.columns[1].state.text().startswith("Not generated: this is a masked language model (BERT)")
    assert view.columns[1].text == ""
    assert all(c.tokens > 0 and c.state.text().endswith(" tokens.") for c in (view.columns[0], view.columns[2],
                                                                              view.columns[3]))
    assert shown_errors == []


def test_the_job_takes_turns_and_uses_one_seed_for_all_columns(runs):
    from workbench.core.project.store import ProjectStore

    with ProjectStore.open(runs) as store:
        gen = playground_jobs.side_by_side_job(store, [("gpt2", "latest"), ("gpt2", "2")], "the",
                                               SampleSpec(max_new_tokens=3, temperature=0.0, seed=None))  # greedy: no early end
        events = []
        try:
            while True:
                events.append(next(gen))
        except StopIteration as stop:
            seed = stop.value
    tokens = [e.column for e in events if isinstance(e, playground_jobs.ColumnToken)]
    assert tokens == [0, 1, 0, 1, 0, 1]  # in turn, token by token
    assert isinstance(seed, int)


# ---- fill-mask -------------------------------------------------------------------------------------

def test_generate_on_a_bert_run_fills_the_masks(qtbot, window, runs, shown_errors):
    playground = open_playground(window, runs)
    assert playground.select_run("bert")
    text = "the king [MASK] to his [MASK]"
    playground.prompt_edit.setPlainText(text)
    assert playground.request_generation()
    view = playground.fill_mask
    qtbot.waitUntil(lambda: view.summary.text().startswith("Best guess: "), timeout=120_000)
    shown = view.candidates()
    assert len(shown) == 2 and all(len(c) == 10 for c in shown)
    assert playground.views.currentWidget() is view
    assert playground.used.text() == "Used run bert, checkpoint step 4."

    from workbench.core.inference.generation import fill_mask
    from workbench.core.inference.models import load_checkpoint_for_inference

    loaded = load_checkpoint_for_inference(window.store, "bert")
    expected = fill_mask(loaded.model, loaded.tokenizer, text, 10)
    assert shown == [[(token, f"{p:.1%}") for token, p in mask] for mask in expected]
    assert view.view.topLevelItem(0).text(0).startswith("[MASK] 1: …the king [MASK] to his ")
    assert "failed" not in playground.summary.text().lower() and shown_errors == []


def test_mask_typed_for_a_gpt_run_says_fill_mask_needs_a_bert_run(qtbot, window, runs, shown_errors):
    playground = open_playground(window, runs)
    assert playground.select_run("gpt2")
    playground.prompt_edit.setPlainText("the king [MASK] to his men")
    assert not playground.request_generation()
    assert playground.problem.text().startswith("Fill-mask needs a BERT run")
    assert not window.runner.is_busy("interactive") and shown_errors == []


# ---- surprise --------------------------------------------------------------------------------------

def score(qtbot, window, text: str | None, start: int = 0, count: int = 64):
    surprise = window.panels.playground.surprise
    if text is None:
        surprise.from_validation.setChecked(True)
        surprise.start.setValue(start)
        surprise.count.setValue(count)
    else:
        surprise.text_edit.setPlainText(text)
    surprise.summary.setText("")
    assert surprise.request_score()
    qtbot.waitUntil(lambda: not window.runner.is_busy("interactive") and surprise.summary.text() != "Scoring…",
                    timeout=120_000)
    return surprise


def test_a_typed_text_is_coloured_by_loss_with_its_perplexity(qtbot, window, runs, shown_errors):
    playground = open_playground(window, runs)
    assert playground.select_run("gpt2")
    text = "the king speaks to his men"
    surprise = score(qtbot, window, text)

    from workbench.core.inference.evaluation import per_token_loss
    from workbench.core.inference.models import load_checkpoint_for_inference

    loaded = load_checkpoint_for_inference(window.store, "gpt2")
    ids = loaded.tokenizer.encode(text)
    expected = per_token_loss(loaded.model, loaded.spec, ids)
    view = surprise.view
    assert view.texts == [loaded.tokenizer.token_text(i) for i in ids]
    np.testing.assert_allclose(view.losses[1:], expected[1:], rtol=1e-5)
    assert math.isnan(view.losses[0])
    ppl = math.exp(float(np.nanmean(expected)))
    assert surprise.summary.text().startswith(f"Perplexity {ppl:,.2f} (mean loss ")
    assert surprise.summary.text().endswith("the text, run gpt2, step 4.")
    assert view.tooltip_at(0).endswith("not predicted (the model needs a token before it)")
    assert f"loss {view.losses[3]:.2f} nats" in view.tooltip_at(3)
    assert shown_errors == []


def test_a_slice_of_the_validation_split_is_scored(qtbot, window, runs, shown_errors):
    playground = open_playground(window, runs)
    assert playground.select_run("lstm")
    surprise = score(qtbot, window, None, start=10, count=40)
    assert len(surprise.view.texts) == 40
    assert "validation tokens 10 to 50 of " in surprise.summary.text()
    assert "run lstm, step 4." in surprise.summary.text()
    assert shown_errors == []


def test_a_checkpoint_that_fails_its_hash_is_refused_with_the_reason(qtbot, window, runs, shown_errors):
    playground = open_playground(window, runs)
    store = window.store
    row = next(r for r in store.list_checkpoints(store.get_run("bert")["id"]) if r["step"] == 4)
    weights = store.path(row["dir"]) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    assert playground.select_run("bert")
    surprise = score(qtbot, window, "the king speaks")
    assert surprise.view.texts == []
    reason = surprise.summary.text()
    assert "sha256" in reason or "damaged" in reason.lower() or "changed" in reason.lower(), reason
    playground.prompt_edit.setPlainText("the [MASK] speaks")
    assert playground.request_generation()
    qtbot.waitUntil(lambda: playground.fill_mask.summary.text() == reason, timeout=60_000)
    assert playground.fill_mask.candidates() == []
    assert shown_errors == []


# ---- screenshots -----------------------------------------------------------------------------------

def test_screenshots_of_the_three_views(qtbot, window, runs, shots, restore_light, shown_errors):
    playground = open_playground(window, runs)
    window.resize(1366, 768)
    compare(qtbot, window, [("gpt2", "4"), ("gpt2-long", "20"), ("gpt2-long", "40"), ("lstm", "latest")], tokens=60)
    shot_views = [("side_by_side", playground.side_by_side)]
    assert playground.select_run("bert")
    playground.prompt_edit.setPlainText("the king [MASK] to his men and they [MASK]")
    assert playground.request_generation()
    qtbot.waitUntil(lambda: playground.fill_mask.summary.text().startswith("Best guess"), timeout=120_000)
    shot_views.append(("fill_mask", playground.fill_mask))
    assert playground.select_run("gpt2")
    score(qtbot, window, "the king speaks to his men and they answer with song at night.\nthe queen sings")
    shot_views.append(("surprise", playground.surprise))
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        theme.apply_color_scheme(QApplication.instance(), scheme)
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(playground.palette()) == dark)
        window.docks["playground"].raise_()
        for label, view in shot_views:
            playground.show_view(view)
            assert window.grab().toImage().save(str(shots / f"window_{label}_{name}.png"))
            assert playground.grab().save(str(shots / f"playground_{label}_{name}.png"))
    assert shown_errors == []
