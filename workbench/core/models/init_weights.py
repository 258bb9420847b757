"""How models trained from scratch start: each layer's weights at the scale of its width.

Each weight matrix inside the transformer blocks is drawn with std 1/sqrt(fan_in) (LeCun's scale,
OLMo's "mitchell" init), and the projections that write into the residual stream are further scaled
by 1/sqrt(2 * n_layer) as in GPT-2. Embeddings and the output layer keep the usual 0.02.

Why not GPT-2's (and Hugging Face's default) fixed 0.02 everywhere: it suits GPT-2's 768 dims
(1/sqrt(768) = 0.036), but at the 128 dims people train on a laptop it starts every layer about 4x
smaller than its width warrants, and learning spends its first steps growing the weights. Measured
with `bench/bench_train.py` (tinyshakespeare, character level, 4 layers x 128 dims, 2000 steps),
validation loss on the whole split, seeds 1337 and 2: GPT-2 1.769 and 1.777 against 1.893 and
1.891 with 0.02; nanoGPT's own loop with this init 1.773 against 1.906 (seed 1337); Llama with a
separate output layer 1.663 against 1.681 (seed 1337). Along the 2000-step GPT-2 run (1 thread,
evaluated every 250 steps) the two are level at step 250 (2.422 and 2.426) and this init leads from
step 500 on (2.158 against 2.273). A run of only 300 steps, whose schedule ends there, gains nothing:
`../shared/checks/run` ends at 2.419 against 2.389 with 0.02.
BERT keeps Hugging Face's init: it is post-norm, where this scaling was not measured.
"""

from __future__ import annotations

import math

from torch import nn

RESIDUAL_OUTPUTS = ("c_proj", "o_proj", "down_proj")  # GPT-2 (attention and MLP), Llama attention, Llama MLP


def fan_in_init(model: nn.Module, n_layer: int, *, blocks: str) -> None:
    """Re-draw the weight matrices of the modules under `blocks` (a name part such as ".h." or
    ".layers."). A module with `in_features` (nn.Linear, stored [out, in]) takes that as its fan-in;
    GPT-2's Conv1D (stored [in, out]) takes its weight's first dimension."""
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if blocks not in f".{name}." or weight is None or weight.dim() != 2:
            continue
        fan_in = module.in_features if isinstance(module, nn.Linear) else weight.shape[0]
        std = fan_in ** -0.5
        if name.rsplit(".", 1)[-1] in RESIDUAL_OUTPUTS:
            std /= math.sqrt(2 * n_layer)
        nn.init.normal_(weight, mean=0.0, std=std)
