"""What the model will actually read of a prompt, said before generating.

The samplers keep the last `context` tokens of a prompt (`models.CachedCausalLM.prime`) and start
an empty prompt from the end-of-text token (GPT-2's document boundary): both are right, but silent.
`prompt_notice` puts them into words for the playground; an empty prompt with a tokenizer that has
no such token is refused with what to type instead.
"""

from __future__ import annotations

from typing import Any

from workbench.core.base.errors import InvalidSpecError
from workbench.core.inference.models import context_size


def prompt_notice(model: Any, tokenizer: Any, prompt: str) -> str:
    """A sentence about how the prompt is read ("" when it is read as typed)."""
    if not prompt:
        if getattr(tokenizer, "eos_token_id", None) is None:
            raise InvalidSpecError("the prompt is empty and this run's tokenizer has no beginning-of-text token to "
                                   "start from; type the first few words of a text for the model to continue")
        return "The prompt is empty: the model starts from its beginning-of-text token."
    limit = context_size(model)
    if limit is None:  # a recurrent model reads any length
        return ""
    count = len(tokenizer.encode(prompt))
    if count <= limit:
        return ""
    return (f"The prompt has {count:,} tokens and the model reads at most {limit:,}: its first "
            f"{count - limit:,} tokens were cut, and the model continues from the last {limit:,}.")
