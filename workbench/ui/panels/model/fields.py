"""What the model form offers and says: the choices of its combo boxes and each field's help text
(the tooltip, and the tooltip again once a problem on the field is solved)."""

from __future__ import annotations

ARCHITECTURES = (("gpt2", "GPT-2"), ("llama", "Llama"), ("bert", "BERT (masked)"), ("lstm", "LSTM"))
INIT_KINDS = (("scratch", "From scratch"), ("folder", "Pretrained folder"), ("hub", "Hugging Face hub id"))
SCHEDULES = (("cosine", "Cosine"), ("linear", "Linear"), ("constant", "Constant"))
PRECISIONS = (("fp32", "fp32 (full)"), ("bf16", "bf16 (mixed)"), ("fp16", "fp16 (mixed, GPU)"), ("auto", "Automatic"))
CUSTOM = ""
SIZE_FIELDS = ("arch", "preset", "n_layer", "n_head", "n_kv_head", "n_embd")

HELP = {
    "dataset": "The dataset to train on",
    "tokenizer": "Automatic: the dataset's newest tokenizer, or a new character tokenizer if it has none",
    "init": "Start from random weights, or fine-tune a pretrained GPT-2, Llama or BERT model",
    "init_source": "A Hugging Face model folder (config.json + model.safetensors) or a hub id already downloaded",
    "arch": "GPT-2 and Llama predict the next token; BERT fills in masked tokens; LSTM is a recurrent baseline",
    "preset": "Named model sizes; changing a size makes it Custom",
    "n_layer": "Transformer blocks (LSTM layers)",
    "n_head": "Attention heads per layer; the embedding size must be a multiple of it",
    "n_kv_head": "Llama's grouped-query attention: key/value heads shared by groups of query heads",
    "n_embd": "Width of the model (hidden size)",
    "block_size": "Context: how many tokens the model sees at once",
    "dropout": "Fraction of activations dropped while training (0 for small data is fine)",
    "lr": "Peak learning rate, reached after warmup; type 3e-4 or 0.0003 (Up/Down step through 1, 2, 3, 5 x 10^k)",
    "schedule": "How the learning rate decays after warmup",
    "warmup": "Steps over which the learning rate rises to its peak; at most the run's steps",
    "batch_size": "Sequences per micro-batch",
    "grad_accum": "Micro-batches per optimizer step: a larger effective batch without more memory",
    "max_steps": "Optimizer steps of the run",
    "eval_interval": "Steps between evaluations on the validation split (and checkpoints)",
    "patience": "Stop after this many evaluations without improvement (off: never)",
    "precision": "bf16 / fp16 autocast run faster on GPUs (bf16 also on recent CPUs) and use less memory",
    "device": "Where to train",
    "seed": "Random seed: the same seed and settings give the same run",
    "num_threads": "CPU threads for training. Automatic keeps a core free for the window; on a small machine "
                   "using every core trains faster at some cost in smoothness",
}
