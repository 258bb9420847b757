"""Every engine the window runs resolves: its loader imports the core functions its jobs call.

A missing or renamed core function fails here (and in test_training_in_window.py), never a skip.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.core.base.events import Notice, run_to_end
from workbench.ui import warmup
from workbench.ui.jobs import backends

WINDOW_ENGINES = {"training", "generation", "attention", "import", "export"}


def test_the_window_has_one_engine_for_each_kind_of_job():
    assert {engine.key for engine in backends.ENGINES} == WINDOW_ENGINES


@pytest.mark.parametrize("engine", backends.ENGINES, ids=lambda engine: engine.key)
def test_every_engine_resolves_to_core_functions(engine):
    functions = engine.load()
    assert functions and all(callable(function) for function in functions)
    assert all(function.__module__.startswith("workbench.core.") for function in functions)
    assert engine.problem() == ""


def test_each_job_calls_the_functions_its_engine_loads(monkeypatch):
    """So the check above covers what the jobs really call (fakes here: no torch is loaded)."""
    calls: list[tuple] = []

    def record(name, result=None):
        def function(*args, **kwargs):
            calls.append((name, *args))
            return result
        return function

    def gen(name, result):
        def function(*args, **kwargs):
            calls.append((name, *args))
            yield Notice(name)
            return result
        return function

    loaded = SimpleNamespace(model="model", tokenizer="tokenizer", step=7)
    monkeypatch.setattr(backends, "load_training", lambda: (
        gen("create_run", {"name": "r", "id": 3}), gen("train", "trained"), record("configure_threads")))
    monkeypatch.setattr(backends, "load_generation", lambda: (
        record("load", loaded), gen("generate", "texts"), record("threads")))
    monkeypatch.setattr(backends, "load_attention", lambda: (
        record("load", loaded), record("extract", "weights"), record("threads")))
    monkeypatch.setattr(backends, "load_export", lambda: (record("export_run", "written"),))

    assert run_to_end(backends.training_job("store", "d", "", "m", "t", None))[1] == "trained"
    assert [c[0] for c in calls] == ["configure_threads", "create_run", "train"] and calls[2][1:] == ("store", 3)
    calls.clear()
    assert run_to_end(backends.generation_job("store", "r", "best", "Hi", "spec"))[1] == "texts"
    assert calls == [("threads",), ("load", "store", "r", "best"), ("generate", "model", "tokenizer", "Hi", "spec")]
    calls.clear()
    assert run_to_end(backends.attention_job("store", "r", "text"))[1] == "weights"
    assert calls == [("threads",), ("load", "store", "r", "latest"), ("extract", "model", "tokenizer", "text")]
    assert run_to_end(backends.export_job("store", "r", "out"))[1] == "written"


def test_a_broken_engine_is_reported_by_the_warm_up_not_raised(monkeypatch):
    def broken():
        from workbench.core.ops.catalog import no_such_function  # noqa: F401

    monkeypatch.setattr(warmup, "ENGINES", (backends.IMPORT, backends.Engine("broken", "Breaking", broken)))
    events, result = run_to_end(warmup.warm_up(modules=()))
    assert [e.message for e in events if isinstance(e, Notice)] == ["Loading import…", "Loading broken…"]
    assert result["engines"]["import"] == ""
    reason = result["engines"]["broken"]
    assert reason.startswith("Breaking cannot start: loading it failed (ImportError: ")
    assert "no_such_function" in reason


def test_the_warm_up_imports_only_what_is_not_loaded_yet():
    loaded: list[str] = []
    modules = (("json", "JSON", lambda: loaded.append("json")),
               ("workbench_not_loaded", "Something", lambda: loaded.append("something")))
    events, result = run_to_end(warmup.warm_up(modules, check_engines=False))
    assert [e.message for e in events] == ["Loading Something…"] and loaded == ["something"]
    assert result == {"engines": {}}


def test_generation_and_attention_load_the_chosen_checkpoint_and_say_its_step(monkeypatch):
    """The Playground's and Attention's checkpoint choice ("best", a step, a paused run's live step)
    reaches the loader, and the step it resolved to comes back for the panel to show."""
    asked: list[str] = []

    def load(store, run, which):
        asked.append(which)
        return SimpleNamespace(model="model", tokenizer="tokenizer", step=2)

    def generate(*args):
        yield Notice("token")
        return "texts"

    monkeypatch.setattr(backends, "load_generation", lambda: (load, generate, lambda: None))
    monkeypatch.setattr(backends, "load_attention", lambda: (load, lambda *a: "weights", lambda: None))
    events, result = run_to_end(backends.attention_job("store", "r", "text", "2"))
    assert result == "weights" and backends.CheckpointUsed("r", 2) in events
    events, result = run_to_end(backends.generation_job("store", "r", "best", "Hi", "spec"))
    assert result == "texts" and backends.CheckpointUsed("r", 2) in events
    assert asked == ["2", "best"]
