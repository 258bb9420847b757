"""Exact resume: a run stopped at step k and resumed reaches the same losses as one never stopped."""

from __future__ import annotations

import threading

import pytest
from training_helpers import make_job, run_all, step_losses

from workbench.core.base.events import CheckpointSaved, RunFinished, StepLogged
from workbench.core.project.checkpoints import verify_checkpoint
from workbench.core.training.loop import train_loop


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    events, result = run_all(train_loop(make_job(tmp_path_factory.mktemp("full"))))
    assert result.status == "finished"
    return step_losses(events)


def _assert_same(losses: dict[int, float], reference: dict[int, float]) -> None:
    assert sorted(losses) == sorted(reference)
    for step, loss in reference.items():
        assert losses[step] == pytest.approx(loss, abs=1e-5), f"step {step}"


def test_closed_at_step_13_and_resumed_matches_every_step(tmp_path, uninterrupted):
    recorded: list = []

    class Sink:
        def record(self, event):
            recorded.append(event)

        def tick(self):
            pass

    gen = train_loop(make_job(tmp_path), sink=Sink())
    losses = {}
    for event in gen:
        if isinstance(event, StepLogged):
            losses[event.step] = event.loss
            if event.step == 13:
                gen.close()  # what the GUI's Stop does: the loop's `finally` saves step 13
                break
    saved = [e for e in recorded if isinstance(e, CheckpointSaved)]
    assert [e.step for e in saved] == [10, 13]
    assert [(e.status, e.step) for e in recorded if isinstance(e, RunFinished)] == [("stopped", 13)]
    verify_checkpoint(tmp_path / "13", saved[-1].sha256)

    events, result = run_all(train_loop(make_job(tmp_path, resume=tmp_path / "13")))
    resumed = step_losses(events)
    assert min(resumed) == 14 and result.step == 30
    _assert_same({**losses, **resumed}, uninterrupted)


def test_stop_event_saves_a_checkpoint_and_resumes_exactly(tmp_path, uninterrupted):
    stop = threading.Event()
    gen = train_loop(make_job(tmp_path), stop=stop)
    events = []
    while True:
        try:
            event = next(gen)
        except StopIteration as done:
            result = done.value
            break
        events.append(event)
        if isinstance(event, StepLogged) and event.step == 7:
            stop.set()
    assert (result.status, result.step) == ("stopped", 7)
    assert isinstance(events[-1], CheckpointSaved) and events[-1].step == 7
    more, result = run_all(train_loop(make_job(tmp_path, resume=tmp_path / "7")))
    _assert_same({**step_losses(events), **step_losses(more)}, uninterrupted)


def test_resume_with_more_steps_goes_on(tmp_path):
    _, first = run_all(train_loop(make_job(tmp_path, max_steps=10)))
    events, result = run_all(train_loop(make_job(tmp_path, resume=tmp_path / "10", max_steps=15)))
    assert first.step == 10 and result.step == 15
    assert sorted(step_losses(events)) == [11, 12, 13, 14, 15]
