"""Bad prompts are said, not silent (issue 14): a prompt longer than the context is cut from the left
with a notice; an empty one starts from the beginning-of-text token, or says what to type."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.core.base.errors import InvalidSpecError
from workbench.core.inference.prompt_window import prompt_notice


class Chars:
    def __init__(self, eos: int | None) -> None:
        self.eos_token_id = eos

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


MODEL = SimpleNamespace(config=SimpleNamespace(n_positions=8))


def test_a_prompt_longer_than_the_context_is_cut_with_a_notice():
    assert prompt_notice(MODEL, Chars(0), "12345678") == ""
    notice = prompt_notice(MODEL, Chars(0), "1234567890ab")
    assert notice == ("The prompt has 12 tokens and the model reads at most 8: its first 4 tokens were cut, "
                      "and the model continues from the last 8.")
    assert prompt_notice(SimpleNamespace(config=None), Chars(0), "x" * 100) == ""  # an LSTM reads any length


def test_an_empty_prompt_starts_from_the_beginning_of_text_or_says_what_to_type():
    assert "beginning-of-text token" in prompt_notice(MODEL, Chars(0), "")
    with pytest.raises(InvalidSpecError, match="type the first few words"):
        prompt_notice(MODEL, Chars(None), "")
