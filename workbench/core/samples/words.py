"""Vocabulary and referents (characters, things, places) for the toy-stories grammar.

Everything here is our own small word list, chosen so that a character-level model meets a few
hundred real English words in many combinations. Referents know their own pronouns and articles, so
templates in `sample_plots.py` never have to get "a"/"an" or "he"/"she" right by hand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Words that start with a vowel letter but a consonant sound, or the reverse. The article rule needs
# them even though we mostly keep such words out of the lists below.
_CONSONANT_SOUND = ("uni", "use", "usu", "one", "eu")
_VOWEL_SOUND = ("hour", "honest", "honor")


def article(phrase: str) -> str:
    """'a' or 'an' for the first word of `phrase` (by its sound, not just its first letter)."""
    word = phrase.lower()
    if word.startswith(_VOWEL_SOUND):
        return "an"
    if word.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if word[:1] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


GIRL_NAMES = (
    "Mia", "Lily", "Emma", "Ava", "Zoe", "Lucy", "Anna", "Ella", "Ruby", "Rosa", "Nora", "Ivy",
    "Maya", "Sara", "Hana", "Leah", "Alice", "Grace", "Olive", "Amara", "Daisy", "Nina",
)
BOY_NAMES = (
    "Tom", "Ben", "Max", "Leo", "Sam", "Jack", "Finn", "Omar", "Theo", "Noah", "Eli", "Adam",
    "Hugo", "Ravi", "Kofi", "Luca", "Oscar", "Felix", "Ivan", "Owen", "Pablo", "Milo",
)
# Creatures that can be either a "he" or a "she" in a story.
ANIMAL_KINDS = (
    "rabbit", "fox", "bear", "mouse", "cat", "dog", "duck", "owl", "frog", "squirrel", "elephant",
    "otter", "hedgehog", "turtle", "penguin", "lion", "puppy", "kitten", "dragon", "robot",
    "unicorn", "pig", "goat", "badger",
)
CHARACTER_ADJECTIVES = (
    "little", "brave", "kind", "curious", "shy", "clever", "happy", "small", "young", "funny",
    "gentle", "busy", "quiet", "cheerful", "friendly", "silly", "tiny", "proud", "careful",
    "sleepy", "bold", "eager", "playful", "lively",
)
# (word used in narration after "his"/"her", how the hero calls them, "m" or "f")
ELDERS = (
    ("mom", "Mom", "f"), ("dad", "Dad", "m"), ("grandma", "Grandma", "f"),
    ("grandpa", "Grandpa", "m"), ("aunt", "Auntie", "f"), ("uncle", "Uncle", "m"),
)
HOMES = (
    "a little house", "a cozy cottage", "a small village", "a big red barn", "an old tree house",
    "a yellow house", "a tiny burrow", "a house by the sea", "a white house on a hill",
    "an apartment above a bakery", "a cabin in the woods",
)
# (noun, preposition used for "at the park" / "in the forest")
PLACES = (
    ("park", "at"), ("forest", "in"), ("beach", "at"), ("lake", "by"), ("garden", "in"),
    ("farm", "on"), ("river", "by"), ("hill", "on"), ("meadow", "in"), ("market", "at"),
    ("school", "at"), ("library", "at"), ("zoo", "at"), ("playground", "at"), ("pond", "by"),
    ("field", "in"), ("orchard", "in"), ("castle", "at"), ("harbor", "at"), ("island", "on"),
    ("town square", "in"), ("old mill", "by"), ("camp", "at"), ("fair", "at"),
)
OBJECT_ADJECTIVES = (
    "red", "blue", "green", "yellow", "orange", "purple", "pink", "shiny", "little", "striped",
    "golden", "silver", "old", "new", "soft", "bright", "wooden", "spotted",
)
# Things a character can carry, lose and find.
OBJECTS = (
    "kite", "ball", "hat", "book", "teddy bear", "toy car", "toy boat", "drum", "scarf", "balloon",
    "wagon", "umbrella", "basket", "lantern", "whistle", "blanket", "backpack", "key", "map",
    "necklace", "flute", "crown", "glove", "cup", "box", "shell", "feather", "marble", "ribbon",
    "yo-yo", "compass", "bell", "paintbrush", "bucket", "puzzle", "notebook",
)
# Things that can break and be mended.
BREAKABLE = (
    "kite", "toy car", "toy boat", "drum", "wagon", "umbrella", "lantern", "flute", "crown",
    "cup", "box", "yo-yo", "bell", "bucket", "birdhouse", "music box", "clock", "sled",
)
CREATURES = (
    "kitten", "puppy", "bird", "duckling", "baby owl", "squirrel", "lamb", "bunny", "hedgehog",
    "goat", "frog", "chick", "fawn", "piglet",
)
CREATURE_ADJECTIVES = ("tiny", "little", "small", "fluffy", "gray", "brown", "white", "spotted", "soft")
COLORS = ("red", "blue", "green", "yellow", "orange", "purple", "white", "golden")
FOODS = (
    "apples", "cookies", "bread", "cheese", "carrots", "berries", "soup", "pie", "cake", "honey",
    "sandwiches", "pancakes", "muffins", "grapes", "nuts", "plums", "rice", "corn",
)
SAD = ("sad", "upset", "unhappy", "worried", "gloomy")
SCARED = ("scared", "afraid", "nervous", "frightened")
HAPPY = ("happy", "glad", "joyful", "cheerful", "proud", "delighted")
GLAD = ("glad", "happy", "so happy", "relieved", "delighted")  # "... to have it back"
TRAITS = ("kind", "friendly", "cheerful", "clever", "gentle", "helpful", "funny", "patient")
TIMES = (
    "One day", "One morning", "One afternoon", "Early one morning", "One Saturday",
    "On a warm spring day", "Last summer", "One bright morning", "One cool autumn day",
    "After breakfast one day", "On a quiet Sunday",
)
HIDE_UNDER = ("bench", "table", "bushes", "pile of leaves", "bed", "big blanket", "stairs")
HIDE_BEHIND = ("tree", "fence", "wall", "door", "curtain", "shed", "big rock")
SPOTS = (
    "under a pile of leaves", "next to the pond", "behind a tall tree", "in a patch of grass",
    "on top of a wall", "beside an old bench", "near the gate", "inside a hollow log",
)
TOOLS = ("some glue", "a bit of tape", "a piece of string", "a few nails", "a needle and thread")
SOUNDS = ("a loud noise", "a strange sound", "a tiny cry", "a soft squeak", "a funny whistle")
FEARS = ("the dark", "thunder", "deep water", "big dogs", "the tall slide", "loud noises", "the old bridge")
GAMES = ("tag", "hide and seek", "catch", "a game of jump rope", "a board game", "a guessing game")


@dataclass(frozen=True)
class Activity:
    """A hobby in the three forms the templates need: 'to fly kites', 'flew kites', 'flying kites'."""

    base: str
    past: str
    ing: str


ACTIVITIES = tuple(
    Activity(*forms)
    for forms in (
        ("play outside", "played outside", "playing outside"),
        ("read books", "read books", "reading books"),
        ("sing songs", "sang songs", "singing songs"),
        ("draw pictures", "drew pictures", "drawing pictures"),
        ("climb trees", "climbed trees", "climbing trees"),
        ("build sand castles", "built sand castles", "building sand castles"),
        ("run in the grass", "ran in the grass", "running in the grass"),
        ("look at the stars", "looked at the stars", "looking at the stars"),
        ("bake cookies", "baked cookies", "baking cookies"),
        ("pick flowers", "picked flowers", "picking flowers"),
        ("jump in puddles", "jumped in puddles", "jumping in puddles"),
        ("fly kites", "flew kites", "flying kites"),
        ("collect shells", "collected shells", "collecting shells"),
        ("watch the birds", "watched the birds", "watching the birds"),
        ("plant seeds", "planted seeds", "planting seeds"),
        ("tell stories", "told stories", "telling stories"),
        ("explore the woods", "explored the woods", "exploring the woods"),
        ("dance", "danced", "dancing"),
        ("swim", "swam", "swimming"),
        ("paint", "painted", "painting"),
    )
)


class Character:
    """A named person or animal with pronouns. `{friend}` in a template introduces them once."""

    def __init__(self, name: str, kind: str, adjective: str, gender: str, *, call: str = "",
                 introduced: bool = True, relation: str = "") -> None:
        self.name = name
        self.kind = kind
        self.adjective = adjective
        self.he, self.him, self.his, self.himself = (
            ("he", "him", "his", "himself") if gender == "m" else ("she", "her", "her", "herself")
        )
        self.call = call or name  # how others address them in dialogue
        self.relation = relation  # e.g. "her friend", used on first mention
        self.introduced = introduced

    @property
    def a(self) -> str:
        """'a brave little fox' (marks the character as introduced: templates say '... named X')."""
        self.introduced = True
        return with_article(f"{self.adjective} {self.kind}")

    def __format__(self, spec: str) -> str:
        if not self.introduced:
            self.introduced = True
            return f"{self.relation} {self.name}"
        return self.name


@dataclass(frozen=True)
class Thing:
    """An object or creature: `{obj.a}` -> 'a red kite', `{obj.the}` -> 'the kite', `{obj}` -> 'kite'."""

    noun: str
    adjective: str

    @property
    def a(self) -> str:
        return with_article(f"{self.adjective} {self.noun}")

    @property
    def full(self) -> str:
        return f"{self.adjective} {self.noun}"

    @property
    def the(self) -> str:
        return f"the {self.noun}"

    def __format__(self, spec: str) -> str:
        return self.noun


@dataclass(frozen=True)
class Place:
    """`{place}` -> 'the park', `{place.at}` -> 'at the park', `{place.noun}` -> 'park'."""

    noun: str
    preposition: str

    @property
    def at(self) -> str:
        return f"{self.preposition} the {self.noun}"

    def __format__(self, spec: str) -> str:
        return f"the {self.noun}"


def make_character(rng: random.Random, *, avoid: tuple[str, ...] = (), relation: str = "") -> Character:
    """A random girl, boy or animal whose name differs from `avoid`."""
    gender = rng.choice("mf")
    names = BOY_NAMES if gender == "m" else GIRL_NAMES
    name = rng.choice(names)
    while name in avoid:
        name = rng.choice(names)
    if rng.random() < 0.4:
        kind = "boy" if gender == "m" else "girl"
    else:
        kind = rng.choice(ANIMAL_KINDS)
    return Character(name, kind, rng.choice(CHARACTER_ADJECTIVES), gender,
                     introduced=not relation, relation=relation)


def make_elder(rng: random.Random, hero: Character) -> Character:
    word, call, gender = rng.choice(ELDERS)
    return Character(f"{hero.his} {word}", word, "", gender, call=call)


def make_thing(rng: random.Random, nouns: tuple[str, ...], adjectives: tuple[str, ...] = OBJECT_ADJECTIVES) -> Thing:
    return Thing(rng.choice(nouns), rng.choice(adjectives))


def make_place(rng: random.Random) -> Place:
    return Place(*rng.choice(PLACES))
