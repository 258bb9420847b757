"""The toy-stories grammar: short, grammatical children's stories built from our own templates.

Each story introduces a hero, adds a trait or two, then follows one plot from `sample_plots.py`
(beginning, problem, feelings, resolution, lesson). Slots are filled from `sample_words.py`, whose
referents carry their own pronouns and articles, and a last pass capitalises every sentence start.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any

from workbench.core.samples import words
from workbench.core.samples.plots import CLOSINGS, FEARS, OPENINGS, PLOTS, SITUATION, TRAITS

# Slots drawn afresh every time a template uses them, so one story can say "sad" and then "upset".
_POOLS: dict[str, tuple[Any, ...]] = {
    "time": words.TIMES,
    "home": words.HOMES,
    "sad": words.SAD,
    "scared": words.SCARED,
    "happy": words.HAPPY,
    "glad": words.GLAD,
    "trait": words.TRAITS,
    "act": words.ACTIVITIES,
    "under": words.HIDE_UNDER,
    "behind": words.HIDE_BEHIND,
    "spot": words.SPOTS,
    "tool": words.TOOLS,
    "sound": words.SOUNDS,
    "game": words.GAMES,
}
_PLOT_NAMES = tuple(PLOTS)
_CLOSING_CHANCE = 0.35

# A lowercase letter that starts a sentence: at the very start, after . ! ? (and a closing quote),
# or right after an opening quote in the middle of a sentence ('said, "he...').
_SENTENCE_START = re.compile(r'(^"?|[.!?]"?\s+"?|\s")([a-z])')


class _Slots(dict):
    """Fixed slots for one story; any other slot name is drawn from `_POOLS` on each use."""

    def __init__(self, rng: random.Random, fixed: dict[str, Any]) -> None:
        super().__init__(fixed)
        self._rng = rng

    def __missing__(self, key: str) -> Any:
        return self._rng.choice(_POOLS[key])


def _capitalise(text: str) -> str:
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _cast(rng: random.Random) -> tuple[_Slots, str]:
    """Everyone and everything one story talks about, plus the moment its fear plot would use."""
    hero = words.make_character(rng)
    friend = words.make_character(rng, avoid=(hero.name,), relation=f"{hero.his} friend")
    stranger = words.make_character(rng, avoid=(hero.name, friend.name))
    elder = words.make_elder(rng, hero)
    fear, situation = rng.choice(FEARS)
    food, food2 = rng.sample(words.FOODS, 2)
    slots = _Slots(rng, {
        "hero": hero,
        "friend": friend,
        "stranger": stranger,
        "elder": elder,
        "pal": rng.choice((friend, elder)),
        "obj": words.make_thing(rng, words.OBJECTS),
        "broken": words.make_thing(rng, words.BREAKABLE),
        "creature": words.make_thing(rng, words.CREATURES, words.CREATURE_ADJECTIVES),
        "butterfly": words.Thing("butterfly", rng.choice(words.COLORS)),
        "place": words.make_place(rng),
        "food": food,
        "food2": food2,
        "fear": fear,
    })
    return slots, situation


def make_story(rng: random.Random) -> str:
    """One story as a single paragraph (no trailing newline)."""
    slots, situation = _cast(rng)
    templates = [rng.choice(OPENINGS), *rng.sample(TRAITS, rng.randint(1, 2))]
    for chance, choices in PLOTS[rng.choice(_PLOT_NAMES)]:
        if chance >= 1.0 or rng.random() < chance:
            templates.append(rng.choice(choices))
    if rng.random() < _CLOSING_CHANCE:
        templates.append(rng.choice(CLOSINGS))
    # Filled in order, so a friend is introduced ("her friend Leo") at the first mention.
    sentences = [(situation if t == SITUATION else t).format_map(slots) for t in templates]
    return _capitalise(" ".join(sentences))


def story_chunks(rng: random.Random) -> Iterator[str]:
    """Endless stories, each followed by a blank line."""
    while True:
        yield make_story(rng) + "\n\n"
