"""What the rest of the core needs of a tokenizer: the `Tokenizer` protocol.

Generation, attention extraction, evaluation and the training loop's sample take any object with
these members, so tests can pass a small stand-in; the app's own implementation is
`workbench.core.tokenizers.tokenizer.WorkbenchTokenizer` (char, byte-level BPE or pretrained).
The data members are read-only properties in the protocol so that a plain attribute, a class
attribute or a property all satisfy it. Generation reads `vocab_size` and `special_tokens` with
`getattr` and a default, so a stand-in with only ids and the three methods still works at run time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Tokenizer(Protocol):
    """Text to token ids and back. `encode` adds no BOS/EOS tokens; `decode` keeps special tokens."""

    @property
    def vocab_size(self) -> int:
        """Number of ids: every id is in ``range(vocab_size)``."""
        ...

    @property
    def eos_token_id(self) -> int | None:
        """The end-of-text token, or None when the tokenizer has none."""
        ...

    @property
    def mask_token_id(self) -> int | None:
        """The ``[MASK]`` token BERT fills in, or None when the tokenizer has none."""
        ...

    @property
    def special_tokens(self) -> Mapping[str, int]:
        """Special token text -> id."""
        ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def token_text(self, token_id: int) -> str:
        """One token for display (bytes decoded, whitespace made visible)."""
        ...
