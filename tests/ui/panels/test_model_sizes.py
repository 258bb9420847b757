"""The preset labels count parameters as the estimate does, for each architecture (issue 10, defect 6)."""

from __future__ import annotations

import dataclasses

import pytest

from workbench.core.base.specs import ModelSpec
from workbench.core.models.presets import PRESETS
from workbench.core.training.estimates import count_params
from workbench.ui.panels.model.sizes import param_count, preset_params


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert", "lstm"])
@pytest.mark.parametrize("vocab", [67, 50257])
def test_preset_counts_are_the_estimates_counts(arch, vocab):
    for name, preset in PRESETS.items():
        if name == "gpt2-124m" and arch != "gpt2":
            continue  # counting 124M-parameter shapes of every architecture adds nothing here
        spec = dataclasses.replace(ModelSpec(), arch=arch, n_layer=preset.n_layer, n_head=preset.n_head,
                                   n_embd=preset.n_embd, block_size=preset.block_size, vocab_size=vocab)
        assert preset_params(preset, arch, vocab) == count_params(spec)[0], (name, arch, vocab)


@pytest.mark.parametrize("spec", [ModelSpec(arch="llama", n_head=4, n_kv_head=2, n_embd=64, vocab_size=100),
                                  ModelSpec(arch="llama", bias=False, tie_embeddings=False, vocab_size=100),
                                  ModelSpec(arch="gpt2", tie_embeddings=False, vocab_size=100),
                                  ModelSpec(arch="bert", tie_embeddings=False, vocab_size=100),
                                  ModelSpec(arch="lstm", bias=False, vocab_size=100, n_layer=2)])
def test_other_settings_count_the_same(spec):
    assert param_count(spec) == count_params(spec)[0]


def test_the_lstm_tiny_label_says_what_the_estimate_says(qtbot):
    from workbench.ui.panels.model.form import ModelForm
    from workbench.ui.widgets.forms import human_count

    form = ModelForm()
    qtbot.addWidget(form)
    form.set_vocab(65, "65 tokens")
    tiny = form.preset.findData("tiny")
    assert form.preset.itemText(tiny) == "tiny — 809.9 k parameters"
    form.arch.setCurrentIndex(form.arch.findData("lstm"))
    lstm = count_params(dataclasses.replace(ModelSpec(), arch="lstm", vocab_size=65))[0]
    assert lstm == 536_704 and form.preset.itemText(tiny) == f"tiny — {human_count(lstm)} parameters" \
        == "tiny — 536.7 k parameters"  # it said 0.8M: the GPT-2 count
    form.set_vocab(50257, "50,257 tokens")  # a BPE vocabulary: the embedding dominates
    assert form.preset.itemText(tiny) == "tiny — 7.0 M parameters"
