"""Line generators for the synthetic sample tasks: copying (induction) and integer addition.

Each generator takes a seeded `random.Random` and yields one example per line, forever; the writer
in `samples.py` decides when enough bytes have been made. Options are checked before the first line
so a bad setting fails before any file is created.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator

from workbench.core.base.errors import InvalidSpecError

COPY_SEPARATOR = " | "
MAX_ADDITION_DIGITS = 30


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSpecError(f"the sample option {name} must be a whole number from {low} to {high} "
                               f"(got {value!r})")
    return value


MAX_COPY_WORDS = 13  # 26 letters, each used once per line, make at most 13 words of 2 letters


def _made_up_words(rng: random.Random, count: int) -> list[str]:
    """`count` lowercase words of 2 to 4 letters with no letter used twice in the line.

    Why no letter twice: a character-level model then finds where to copy from with one character,
    as it does on the random tokens the induction score reads; with letters repeating (each word
    drawn freely) a character has several earlier occurrences, the match needs two or three
    characters of context, and a tiny Llama had barely started copying after 2400 steps where it
    copies within about 800 steps here (bench/bench_induction.py)."""
    lengths = [rng.randint(2, 4) for _ in range(count)]
    while sum(lengths) > len(string.ascii_lowercase):
        lengths[lengths.index(max(lengths))] -= 1
    letters = rng.sample(string.ascii_lowercase, sum(lengths))
    words, at = [], 0
    for length in lengths:
        words.append("".join(letters[at:at + length]))
        at += length
    return words


def copy_lines(rng: random.Random, *, min_words: int = 4, max_words: int = 8, max_run: int = 8) -> Iterator[str]:
    """Lines like `tu kqz fjw pxo ab | kqz fjw pxo`: some made-up words, then a run of them again.

    The copied run starts anywhere in the line, so the first copied word is a guess among the
    words of the line; every character after its first is fully determined by where that character
    appeared before, which is exactly what an induction head computes.
    """
    _check_int("min_words", min_words, 2, MAX_COPY_WORDS)
    _check_int("max_words", max_words, min_words, MAX_COPY_WORDS)
    _check_int("max_run", max_run, 1, max_words)
    return _copy_lines(rng, min_words, max_words, max_run)


def _copy_lines(rng: random.Random, min_words: int, max_words: int, max_run: int) -> Iterator[str]:
    while True:
        line_words = _made_up_words(rng, rng.randint(min_words, max_words))
        run_length = rng.randint(min(2, max_run), min(max_run, len(line_words)))
        start = rng.randint(0, len(line_words) - run_length)
        run = line_words[start:start + run_length]
        yield " ".join(line_words) + COPY_SEPARATOR + " ".join(run) + "\n"


def addition_lines(rng: random.Random, *, max_digits: int = 3) -> Iterator[str]:
    """Lines like `123+45=168`; each operand has 1 to `max_digits` digits, every length equally often."""
    _check_int("max_digits", max_digits, 1, MAX_ADDITION_DIGITS)
    return _addition_lines(rng, max_digits)


def _operand(rng: random.Random, max_digits: int) -> int:
    # Pick the length first: drawn uniformly from 0..999, nine numbers in ten would have 3 digits.
    digits = rng.randint(1, max_digits)
    return rng.randrange(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits)


def _addition_lines(rng: random.Random, max_digits: int) -> Iterator[str]:
    while True:
        a, b = _operand(rng, max_digits), _operand(rng, max_digits)
        yield f"{a}+{b}={a + b}\n"
