"""The window's generation job times its tokens where they are made (issue 14 point 9): the panel sees
them in batches at its redraw rate, too coarse for tokens per second on a fast model."""

from __future__ import annotations

from types import SimpleNamespace

from workbench.core.base.events import GenerationTimed, Notice, TokenGenerated, run_to_end
from workbench.ui.jobs import backends


def fake_generation(monkeypatch, closed: list[bool]) -> None:
    def generate(model, tokenizer, prompt, spec):
        try:
            for i in range(5):
                yield TokenGenerated(sample=0, index=i, token_id=i, text="a", prob=0.5, logprob_total=-i)
            return ["aaaaa"]
        finally:
            closed.append(True)

    loaded = SimpleNamespace(model="model", tokenizer="tokenizer", step=3)
    monkeypatch.setattr(backends, "load_generation", lambda: (lambda *a: loaded, generate, lambda: None))


def test_the_job_ends_with_its_timing(monkeypatch):
    closed: list[bool] = []
    fake_generation(monkeypatch, closed)
    events, result = run_to_end(backends.generation_job("store", "r", "latest", "Hi", "spec"))
    assert result == ["aaaaa"] and closed == [True]
    timing = events[-1]
    assert isinstance(timing, GenerationTimed) and timing.tokens == 5
    assert timing.first_token_s >= 0 and timing.seconds >= 0
    assert not any(isinstance(e, Notice) and e.level == "warning" for e in events)


def test_a_stopped_job_closes_the_generation_at_once(monkeypatch):
    closed: list[bool] = []
    fake_generation(monkeypatch, closed)
    job = backends.generation_job("store", "r", "latest", "Hi", "spec")
    while not isinstance(next(job), TokenGenerated):
        pass
    job.close()  # what the worker does on Stop: the core's `finally` must run now
    assert closed == [True]


def test_tokens_per_second_counts_after_the_first_token():
    assert GenerationTimed(11, 0.2, 0.5).tokens_per_s == 20.0
    assert GenerationTimed(1, 0.2, 0.0).tokens_per_s is None
