"""A plain LSTM language model: the baseline a transformer should beat.

Its folder is `config.json` (`"model_type": "workbench-lstm"` plus the sizes) and
`model.safetensors`; transformers cannot load it, which is fine for a baseline.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LSTM_MODEL_TYPE = "workbench-lstm"

LSTMState = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (n_layer, B, n_embd)


class LSTMLanguageModel(nn.Module):
    """Embedding -> n_layer LSTM (hidden = n_embd) -> linear head tied to the embedding."""

    def __init__(self, vocab_size: int, n_embd: int, n_layer: int, dropout: float = 0.0,
                 tie_embeddings: bool = True, bias: bool = True):
        super().__init__()
        self.vocab_size, self.n_embd, self.n_layer, self.dropout = vocab_size, n_embd, n_layer, dropout
        self.embedding = nn.Embedding(vocab_size, n_embd)
        # nn.LSTM applies its dropout between layers only, and warns when there is one layer
        self.lstm = nn.LSTM(n_embd, n_embd, num_layers=n_layer, bias=bias, batch_first=True,
                            dropout=dropout if n_layer > 1 else 0.0)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        if tie_embeddings:
            self.head.weight = self.embedding.weight
        nn.init.normal_(self.embedding.weight, mean=0.0, std=0.02)
        if not tie_embeddings:
            nn.init.normal_(self.head.weight, mean=0.0, std=0.02)

    def forward(self, input_ids: torch.Tensor, state: LSTMState | None = None
                ) -> tuple[torch.Tensor, LSTMState]:
        x = self.embedding(input_ids)  # (B, T, C)
        if self.training and self.dropout > 0:
            x = F.dropout(x, self.dropout, True)
        out, state = self.lstm(x, state)  # (B, T, C), ((L, B, C), (L, B, C))
        if self.training and self.dropout > 0:
            out = F.dropout(out, self.dropout, True)
        return self.head(out), state  # (B, T, V)
