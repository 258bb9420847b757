"""The training loop: schedules, accumulation, clipping, NaN, early stopping, pause, OOM advice."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import pytest
import torch
from training_helpers import MODEL_SPEC, TRAIN_SPEC, build, loss_fn, make_job, run_all, step_losses

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.events import (
    CheckpointSaved,
    EvalFinished,
    RunStatusChanged,
    SampleGenerated,
    StepLogged,
)
from workbench.core.base.specs import TrainSpec
from workbench.core.training.loop import train_loop
from workbench.core.training.optim import accumulate_gradients, clip_gradients, make_optimizer
from workbench.core.training.schedules import lr_at, lr_factor

# ---- schedules --------------------------------------------------------------------------------


def test_warmup_rises_linearly_to_the_peak():
    factors = [lr_factor(s, warmup=10, max_steps=100, schedule="cosine", min_lr_ratio=0.1) for s in range(10)]
    assert factors[0] == pytest.approx(0.1)
    assert factors[4] == pytest.approx(0.5)
    assert factors[9] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(factors, factors[1:], strict=False))


def test_cosine_ends_at_min_lr_ratio_and_is_half_way_in_the_middle():
    f = lambda s: lr_factor(s, warmup=10, max_steps=110, schedule="cosine", min_lr_ratio=0.1)  # noqa: E731
    assert f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.55)
    assert f(110) == pytest.approx(0.1)
    assert f(500) == pytest.approx(0.1)  # past max_steps stays at the floor


def test_linear_and_constant_schedules():
    lin = lambda s: lr_factor(s, warmup=0, max_steps=100, schedule="linear", min_lr_ratio=0.0)  # noqa: E731
    assert [lin(0), lin(50), lin(100)] == pytest.approx([1.0, 0.5, 0.0])
    const = [lr_factor(s, warmup=5, max_steps=100, schedule="constant", min_lr_ratio=0.1) for s in (5, 50, 99)]
    assert const == [1.0, 1.0, 1.0]
    assert lr_at(99, TrainSpec(lr=2e-3, warmup=5, schedule="constant")) == pytest.approx(2e-3)


# ---- one optimizer step ---------------------------------------------------------------------


def _grads(model):
    return [p.grad.clone() for p in model.parameters()]


def test_grad_accumulation_matches_one_big_batch():
    spec = replace(MODEL_SPEC, dropout=0.0)
    torch.manual_seed(0)
    model = build(spec)
    ids = torch.randint(0, spec.vocab_size, (8, spec.block_size + 1))
    loss_big = accumulate_gradients(model, [ids], lambda m, x: loss_fn(m, x, None), accum=1)
    big = _grads(model)
    model.zero_grad(set_to_none=True)
    loss_acc = accumulate_gradients(model, [ids[:4], ids[4:]], lambda m, x: loss_fn(m, x, None), accum=2)
    acc = _grads(model)
    assert loss_acc == pytest.approx(loss_big, rel=1e-5)
    for a, b in zip(acc, big, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_clipping_reports_the_norm_before_clipping():
    torch.manual_seed(0)
    model = build()
    ids = torch.randint(0, MODEL_SPEC.vocab_size, (4, MODEL_SPEC.block_size + 1))
    accumulate_gradients(model, [ids], lambda m, x: loss_fn(m, x, None), accum=1)
    before = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()])).item()
    reported = clip_gradients(model, 0.01)
    after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()])).item()
    assert reported == pytest.approx(before, rel=1e-4)
    assert before > 0.01 and after == pytest.approx(0.01, rel=1e-3)
    assert clip_gradients(model, 0.0) == pytest.approx(after, rel=1e-4)  # 0 = measure only


def test_weight_decay_only_on_matrices():
    model = build()
    optimizer = make_optimizer(model, TrainSpec(weight_decay=0.1))
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"]) and all(p.dim() < 2 for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))


# ---- the loop -------------------------------------------------------------------------------


def test_loop_learns_and_yields_every_kind_of_event(tmp_path):
    events, result = run_all(train_loop(make_job(tmp_path / "ck")))
    steps = [e for e in events if isinstance(e, StepLogged)]
    evals = [e for e in events if isinstance(e, EvalFinished)]
    assert [s.step for s in steps] == list(range(1, 31))
    assert [e.step for e in evals] == [10, 20, 30]
    assert evals[-1].val_loss < evals[0].val_loss
    assert evals[-1].val_ppl == pytest.approx(math.exp(evals[-1].val_loss))
    assert all(s.tokens_per_s > 0 and s.grad_norm > 0 and s.lr > 0 for s in steps)
    assert steps[0].lr == pytest.approx(3e-3 / 5)  # warmup
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [10, 20, 30]
    assert [e.step for e in events if isinstance(e, SampleGenerated)] == []  # no tokenizer, no sample
    assert (result.status, result.step) == ("finished", 30)


class _Poisoned:
    """A loss that turns NaN after `healthy_steps` training calls (like a diverging run)."""

    def __init__(self, healthy_steps: int) -> None:
        self.left = healthy_steps

    def __call__(self, model, ids, generator):
        loss = loss_fn(model, ids, generator)
        if not model.training:
            return loss
        self.left -= 1
        return loss * float("nan") if self.left < 0 else loss


def test_nan_loss_fails_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    job = make_job(tmp_path / "ck")
    job.loss_fn = _Poisoned(healthy_steps=12)
    events, result = run_all(train_loop(job))
    assert (result.status, result.step) == ("failed", 12)
    assert "nan" in result.message and "step 13" in result.message and "step 10" in result.message
    assert "--lr" in result.message
    assert [c.step for c in events if isinstance(c, CheckpointSaved)] == [10]
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["10"]  # no checkpoint of a broken model
    assert max(e.step for e in events if isinstance(e, StepLogged)) == 12


def test_a_nan_validation_loss_fails_the_run_without_a_checkpoint(tmp_path):
    job = make_job(tmp_path / "ck")
    evaluations = {"n": 0}

    def counting_validation(model, ids, generator):
        evaluations["n"] += not model.training
        return loss_fn(model, ids, generator)

    job.loss_fn = counting_validation  # a healthy run first: how many validation batches one evaluation takes
    events, result = run_all(train_loop(job))
    assert result.status == "finished"
    calls_per_eval = evaluations["n"] // len([e for e in events if isinstance(e, EvalFinished)])

    job = make_job(tmp_path / "ck2")
    evaluations["n"] = 0

    def nan_from_the_second_evaluation(model, ids, generator):
        loss = loss_fn(model, ids, generator)
        if model.training:
            return loss
        evaluations["n"] += 1
        return loss * float("nan") if evaluations["n"] > calls_per_eval else loss

    job.loss_fn = nan_from_the_second_evaluation
    events, result = run_all(train_loop(job))
    assert (result.status, result.step) == ("failed", 20)
    assert "validation loss became nan at step 20" in result.message and "step 10" in result.message
    assert [c.step for c in events if isinstance(c, CheckpointSaved)] == [10]
    assert [e.step for e in events if isinstance(e, EvalFinished)] == [10]


def test_early_stopping_after_patience_evaluations_without_improvement(tmp_path):
    job = make_job(tmp_path / "ck", patience=1, max_steps=100)

    def flat_validation(model, ids, generator):  # validation never improves
        return loss_fn(model, ids, generator) if model.training else torch.tensor(2.0)

    job.loss_fn = flat_validation
    events, result = run_all(train_loop(job))
    assert (result.status, result.message, result.step) == ("finished", "early stopped", 20)
    assert [e.best for e in events if isinstance(e, EvalFinished)] == [True, False]


def test_pause_holds_the_loop_and_changes_nothing(tmp_path):
    reference = step_losses(run_all(train_loop(make_job(tmp_path / "a", max_steps=8)))[0])
    pause = threading.Event()
    gen = train_loop(make_job(tmp_path / "b", max_steps=8), pause=pause)
    events, paused_seen = [], 0
    for event in gen:
        events.append(event)
        if isinstance(event, StepLogged) and event.step == 3:
            pause.set()
        if isinstance(event, RunStatusChanged) and event.status == "paused":
            paused_seen += 1
            if paused_seen == 2:
                pause.clear()
    statuses = [e.status for e in events if isinstance(e, RunStatusChanged)]
    assert statuses[0] == "paused" and statuses[-1] == "running"
    assert step_losses(events) == reference


def test_out_of_memory_while_evaluating_fails_with_advice_and_keeps_the_checkpoint(tmp_path):
    job = make_job(tmp_path / "ck")
    training_calls = {"n": 0}

    def evaluation_runs_out(model, ids, generator):
        training_calls["n"] += model.training
        if not model.training and training_calls["n"] > 10:  # every evaluation after the one at step 10
            raise torch.OutOfMemoryError("CUDA out of memory")
        return loss_fn(model, ids, generator)

    job.loss_fn = evaluation_runs_out
    events, result = run_all(train_loop(job))
    assert result.status == "failed" and "while evaluating at step 20" in result.message
    assert "--batch-size" in result.message
    assert [c.step for c in events if isinstance(c, CheckpointSaved)] == [10]


def test_out_of_memory_suggests_a_batch_that_fits(tmp_path):
    job = make_job(tmp_path / "ck", batch_size=8, grad_accum=1)

    def small_memory(model, ids, generator):
        if ids.shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return loss_fn(model, ids, generator)

    job.loss_fn = small_memory
    _, result = run_all(train_loop(job))
    assert result.status == "failed"
    assert "batch size 8" in result.message and "--batch-size 2 --grad-accum 4" in result.message


def test_eval_batches_zero_measures_the_whole_validation_split(tmp_path):
    from workbench.core.training.batches import EveryWindow
    from workbench.core.training.evaluation import validation_loss
    from workbench.core.training.state import seed_everything

    job = make_job(tmp_path / "ck", max_steps=4, eval_interval=4, eval_batches=0)
    events, result = run_all(train_loop(job))
    (reported,) = [e.val_loss for e in events if isinstance(e, EvalFinished)]
    everything = EveryWindow(job.val_data, MODEL_SPEC.block_size)
    assert len(everything) > 20 * TRAIN_SPEC.batch_size  # more than the default evaluation reads
    seed_everything(0)
    expected = validation_loss(job.model, everything, 4, loss_fn, torch.device("cpu"), mask_seed=0)
    assert reported == pytest.approx(expected, abs=1e-6)
    with pytest.raises(InvalidSpecError, match="--eval-batches must be 0"):
        TrainSpec(eval_batches=-1).validate()


def test_eval_batches_zero_without_a_validation_split_samples_training_windows(tmp_path):
    """The whole split is the validation split: standing in with training data, it takes the usual sample."""
    from dataclasses import replace as dc_replace

    from workbench.core.training.loop import _Loop, _NullSink

    job = make_job(tmp_path / "ck", max_steps=2, eval_batches=0)
    job = dc_replace(job, val_data=job.val_data[:5])  # shorter than one window
    loop = _Loop(job, _NullSink(), None, None)
    assert len(loop.eval_windows) == 20 * TRAIN_SPEC.batch_size
    assert any("measured on training windows" in note for note in loop.notices)


def test_pausing_writes_a_checkpoint_of_the_weights_as_they_are(tmp_path):
    """The Playground and Attention panels use a paused run's weights through the checkpoint written
    as it pauses (at the paused step, before the "paused" status); an unchanged step writes none again."""
    pause = threading.Event()
    events, pauses = [], 0
    for event in train_loop(make_job(tmp_path / "p", max_steps=12), pause=pause):
        events.append(event)
        if isinstance(event, StepLogged) and event.step in (3, 7):
            pause.set()
        if isinstance(event, RunStatusChanged) and event.status == "paused":
            pauses += 1
            if pauses in (2, 4):
                pause.clear()
    saved = [e for e in events if isinstance(e, CheckpointSaved)]
    assert [e.step for e in saved if e.step in (3, 7)] == [3, 7]
    first_pause = next(i for i, e in enumerate(events) if isinstance(e, RunStatusChanged) and e.status == "paused")
    assert isinstance(events[first_pause - 1], CheckpointSaved) and events[first_pause - 1].step == 3
    assert len([e for e in saved if e.step == 3]) == 1  # the second "paused" status of step 3 wrote none
