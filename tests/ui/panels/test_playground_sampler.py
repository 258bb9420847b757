"""The playground's sampler settings (issue 14 point 1): every setting the command line has, one set of
defaults (SampleSpec's), and presets: greedy, balanced, creative and the user's own, kept in the INI."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workbench.core.base.specs import SampleSpec
from workbench.ui.panels.playground import presets, sampler_form
from workbench.ui.panels.playground.panel import PlaygroundPanel
from workbench.ui.panels.playground.sampler_form import SamplerForm, format_stops, parse_stops


@pytest.fixture
def form(qtbot) -> SamplerForm:
    widget = SamplerForm()
    qtbot.addWidget(widget)
    return widget


def choose(form: SamplerForm, name: str) -> None:
    index = form.preset.findData(name)
    assert index >= 0, name
    form.preset.setCurrentIndex(index)
    form.preset.activated.emit(index)  # what a user's pick sends


def test_every_setting_of_the_command_line_reaches_the_spec(form):
    assert form.spec() == SampleSpec() and form.preset.currentText() == "default"
    form.max_tokens.setValue(17)
    form.temperature.setValue(0.7)
    form.top_k.setValue(12)
    form.top_p.setValue(0.9)
    form.min_p.setValue(0.05)
    form.repetition.setValue(1.3)
    form.stops.setText(r"THE END|\n\n|a\|b")
    form.num_samples.setValue(3)
    form.seed.setValue(42)
    assert form.spec() == SampleSpec(max_new_tokens=17, temperature=0.7, top_k=12, top_p=0.9, min_p=0.05,
                                     repetition_penalty=1.3, stop=("THE END", "\n\n", "a|b"), num_samples=3, seed=42)
    assert form.preset.currentText() == "custom"
    form.set_spec(SampleSpec(stop=("x\\y", "\t")))
    assert form.spec() == SampleSpec(stop=("x\\y", "\t")) and form.preset.currentText() == "default"


@pytest.mark.parametrize("stops", [(), ("\n",), ("a|b", "c\\d", "END")])
def test_stop_strings_read_back_as_typed(stops):
    assert parse_stops(format_stops(stops)) == stops


def test_a_preset_sets_the_sampler_and_keeps_the_rest(form):
    form.max_tokens.setValue(33)
    form.num_samples.setValue(2)
    choose(form, "greedy")
    assert form.spec() == SampleSpec(max_new_tokens=33, num_samples=2, temperature=0.0)
    choose(form, "balanced")
    assert form.spec() == SampleSpec(max_new_tokens=33, num_samples=2, temperature=0.8, top_k=40, top_p=0.95)
    assert form.preset.currentText() == "balanced" and not form.delete_preset.isEnabled()
    choose(form, "creative")
    assert (form.spec().temperature, form.spec().min_p) == (1.2, 0.05)
    choose(form, "default")
    assert form.spec() == replace(SampleSpec(), max_new_tokens=33, num_samples=2)


def test_own_presets_are_saved_in_the_settings_and_can_be_deleted(qtbot, form, monkeypatch, answer_questions):
    form.temperature.setValue(0.6)
    form.repetition.setValue(1.2)
    monkeypatch.setattr(sampler_form, "ask_preset_name", lambda parent: "  my poems ")
    form.save_preset.click()
    assert form.preset.currentText() == "my poems" and form.delete_preset.isEnabled()
    assert presets.user_presets()["my poems"]["temperature"] == 0.6

    later = SamplerForm()  # another window, or the next start: the preset comes from the INI file
    qtbot.addWidget(later)
    choose(later, "my poems")
    assert (later.spec().temperature, later.spec().repetition_penalty) == (0.6, 1.2)

    problems: list[str] = []
    form.problem.connect(problems.append)
    monkeypatch.setattr(sampler_form, "ask_preset_name", lambda parent: "Greedy")
    form.save_preset.click()
    assert problems == ["'Greedy' is a built-in preset; choose another name."]
    assert presets.BUILT_IN["greedy"]["temperature"] == 0.0

    form.delete_preset.click()
    assert "my poems" not in presets.user_presets() and form.preset.findData("my poems") < 0
    assert answer_questions == ["Delete the preset 'my poems'?"]


def test_the_panel_shows_every_setting_and_draws_the_seed_it_sends(qtbot):
    panel = PlaygroundPanel()
    qtbot.addWidget(panel)
    panel.form.min_p.setValue(0.1)
    panel.form.num_samples.setValue(2)
    assert panel.sample_spec().min_p == 0.1 and panel.sample_spec().seed is None
    sent = []
    panel.generateRequested.connect(lambda run, checkpoint, prompt, spec: sent.append(spec))
    panel.generate_button.setEnabled(True)
    assert panel.request_generation()
    assert sent[0].seed is not None and replace(sent[0], seed=None) == panel.sample_spec()
