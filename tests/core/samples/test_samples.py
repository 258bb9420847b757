"""Built-in sample datasets: determinism, sizes, grammar of the stories, correctness of the tasks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from workbench.core.base.errors import InvalidSpecError, NotFoundError
from workbench.core.base.events import Progress, run_to_end
from workbench.core.models.presets import PRESETS
from workbench.core.samples import builtin as samples
from workbench.core.samples.builtin import SAMPLES, SampleDataset, get_sample, sample_options, write_sample
from workbench.core.samples.words import BOY_NAMES, GIRL_NAMES, article


def write(tmp_path: Path, key: str, size: int | None = None, seed: int = 0, name: str = "", **options):
    path = tmp_path / (name or f"{key}-{seed}-{size}.txt")
    events, returned = run_to_end(write_sample(key, path, size, seed, **options))
    assert returned == path
    return path, events


@pytest.fixture(scope="module")
def stories_path(tmp_path_factory) -> Path:
    """The toy-stories sample at its default size, written once for the module."""
    path, _ = write(tmp_path_factory.mktemp("stories"), "toy-stories")
    return path


@pytest.fixture(scope="module")
def stories(stories_path) -> list[str]:
    text = stories_path.read_text(encoding="utf-8")
    return [story for story in text.split("\n\n") if story.strip()]


def sentences_of(story: str) -> list[str]:
    # A sentence ends at . ! or ?, possibly followed by a closing quote, then whitespace.
    return re.split(r'(?<=[.!?])\s+|(?<=[.!?]")\s+', story.strip())


# --- the catalogue -----------------------------------------------------------------------------

def test_catalogue_describes_every_sample():
    assert set(SAMPLES) == {"toy-stories", "copy-task", "addition"}
    for key, sample in SAMPLES.items():
        assert isinstance(sample, SampleDataset)
        assert sample.key == key
        assert sample.title and len(sample.description) > 80 and len(sample.attention_hint) > 80
        assert sample.suggested_tokenizer == "char"
        assert sample.suggested_preset in PRESETS  # a preset the model form offers
        assert sample.default_bytes > 0
    assert SAMPLES["toy-stories"].default_bytes >= 1_048_576
    with pytest.raises(dataclasses.FrozenInstanceError):
        SAMPLES["addition"].title = "changed"  # type: ignore[misc]


def test_unknown_key_names_the_known_ones_and_writes_nothing(tmp_path):
    with pytest.raises(NotFoundError) as info:
        run_to_end(write_sample("poems", tmp_path / "x.txt"))
    for key in SAMPLES:
        assert key in str(info.value)
    with pytest.raises(NotFoundError):
        get_sample("poems")
    assert list(tmp_path.iterdir()) == []


def test_bad_options_and_sizes_are_refused_before_any_file(tmp_path):
    assert sample_options("addition") == {"max_digits": 3}
    assert sample_options("toy-stories") == {}
    with pytest.raises(InvalidSpecError, match="max_digits"):
        run_to_end(write_sample("toy-stories", tmp_path / "a.txt", 1000, max_digits=3))
    with pytest.raises(InvalidSpecError, match="max_digits"):
        run_to_end(write_sample("addition", tmp_path / "b.txt", 1000, max_digits=0))
    with pytest.raises(InvalidSpecError, match="size"):
        run_to_end(write_sample("addition", tmp_path / "c.txt", 0))
    assert list(tmp_path.iterdir()) == []


# --- the writer --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_same_seed_same_file_other_seed_other_file(tmp_path, key):
    first, _ = write(tmp_path, key, 30_000, seed=7, name="a.txt")
    again, _ = write(tmp_path, key, 30_000, seed=7, name="b.txt")
    other, _ = write(tmp_path, key, 30_000, seed=8, name="c.txt")
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_size_progress_and_no_leftovers(tmp_path, key):
    size = 300_000
    path, events = write(tmp_path, key, size, seed=1)
    written = path.stat().st_size
    assert size <= written < size + 5_000  # whole lines / stories: overshoot by at most one
    assert list(tmp_path.iterdir()) == [path]  # the temporary file was renamed, not left behind
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert all(isinstance(e, Progress) and e.stage == "generate" and e.unit == "bytes" for e in events)
    assert all(e.total == size for e in events)
    done = [e.done for e in events]
    assert done == sorted(done) and done[0] == 0 and done[-1] == size
    assert max(b - a for a, b in zip(done, done[1:], strict=False)) <= 100_000


def test_default_size_of_stories_is_at_least_one_megabyte(stories_path):
    assert stories_path.stat().st_size >= SAMPLES["toy-stories"].default_bytes >= 1_000_000


def test_closing_mid_way_leaves_no_file(tmp_path):
    gen = write_sample("toy-stories", tmp_path / "stories.txt", 2_000_000)
    for _ in range(3):
        next(gen)
    assert any(tmp_path.iterdir())  # the temporary file exists while writing
    gen.close()
    assert list(tmp_path.iterdir()) == []


def test_an_error_mid_way_leaves_no_file(tmp_path, monkeypatch):
    def failing_lines(rng):
        for _ in range(20_000):
            yield "1+1=2\n"
        raise OSError("disk full")

    monkeypatch.setitem(samples._CHUNK_MAKERS, "addition", failing_lines)
    with pytest.raises(OSError, match="disk full"):
        run_to_end(write_sample("addition", tmp_path / "sums.txt", 1_000_000))
    assert list(tmp_path.iterdir()) == []


# --- the stories -------------------------------------------------------------------------------

def test_article_follows_the_sound():
    assert [article(w) for w in ("kite", "orange", "umbrella", "old owl", "unicorn", "hour", "useful")] == [
        "a", "an", "an", "an", "a", "an", "a"]


def test_every_sentence_is_capitalised_and_punctuated(stories):
    assert len(stories) > 1000
    for story in stories[:400]:
        assert story.count('"') % 2 == 0, story
        for sentence in sentences_of(story):
            assert sentence.lstrip('"')[:1].isupper(), (sentence, story)
            assert re.search(r'[.!?]"?$', sentence), (sentence, story)


def test_articles_slots_and_spacing(stories_path):
    text = stories_path.read_text(encoding="utf-8")
    consonant_sound = {"unicorn", "useful", "uniform", "usual", "one"}
    vowel_sound = {"hour", "honest"}
    for article_word, word in re.findall(r"\b([Aa]n?) ([A-Za-z]+)", text):
        starts_with_vowel = word[0].lower() in "aeiou"
        if article_word.lower() == "a":
            assert not starts_with_vowel or word.lower() in consonant_sound, f"a {word}"
        else:
            assert starts_with_vowel or word.lower() in vowel_sound, f"an {word}"
    for unfilled in ("{", "}", "None", "  ", " ,", " .", "..", ",,"):
        assert unfilled not in text
    assert text.isascii()


def test_pronouns_agree_with_the_hero(stories):
    """The sentence after the opening, when it starts with a pronoun, matches the hero's name."""
    checked = 0
    for story in stories[:1000]:
        opening, following = sentences_of(story)[:2]
        name = re.search(r"(?:named|called) ([A-Z][a-z]+)|^([A-Z][a-z]+) was", opening)
        pronoun = following.split()[0]
        if name and pronoun in {"He", "She", "His", "Her"}:
            hero = name.group(1) or name.group(2)
            expected = {"He", "His"} if hero in BOY_NAMES else {"She", "Her"}
            assert hero in BOY_NAMES or hero in GIRL_NAMES
            assert pronoun in expected, story
            checked += 1
    assert checked > 200


def test_narration_stays_in_the_past_tense(stories):
    for story in stories[:400]:
        narration = re.sub(r'"[^"]*"', '""', story)
        for sentence in sentences_of(narration):
            if "learned that" in sentence or "told" in sentence:
                continue  # a lesson or advice is rightly in the present tense
            assert not re.search(r"\b(is|are|has|does|goes|wants)\b", sentence), (sentence, story)


def test_stories_are_varied(stories):
    some = stories[:500]
    all_sentences = [s for story in some for s in sentences_of(story)]
    assert len(set(all_sentences)) > 0.6 * len(all_sentences)
    assert len(set(some)) == len(some)
    words = set(re.findall(r"[a-z]+", " ".join(stories).lower()))
    assert len(words) > 400
    openings = {re.sub(r"[A-Z][a-z]+", "X", sentences_of(story)[0]) for story in some}
    assert len(openings) > 50  # many shapes of opening, not one template with names swapped
    assert all(5 <= len(sentences_of(story)) <= 16 for story in some)


# --- the tasks ---------------------------------------------------------------------------------

def test_every_addition_line_is_correct(tmp_path):
    path, _ = write(tmp_path, "addition", 200_000, seed=3)
    lengths = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(\d+)\+(\d+)=(\d+)", line)
        assert match, line
        a, b, total = match.groups()
        assert int(a) + int(b) == int(total), line
        assert not (len(a) > 1 and a.startswith("0")), line
        lengths.update((len(a), len(b)))
    assert lengths == {1, 2, 3}


def test_addition_max_digits_option(tmp_path):
    path, _ = write(tmp_path, "addition", 50_000, seed=3, max_digits=6)
    operands = re.findall(r"(\d+)\+(\d+)=", path.read_text(encoding="utf-8"))
    lengths = {len(n) for pair in operands for n in pair}
    assert lengths == set(range(1, 7))


def test_every_copy_line_repeats_a_run_of_its_words(tmp_path):
    path, _ = write(tmp_path, "copy-task", 200_000, seed=5)
    starts = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        assert re.fullmatch(r"[a-z ]+ \| [a-z ]+", line), line
        first, copied = (part.split(" ") for part in line.split(" | "))
        letters = "".join(first)
        assert len(set(letters)) == len(letters) and 4 <= len(first) <= 8  # no letter twice: one finds its place
        assert 2 <= len(copied) <= 8
        start = first.index(copied[0])
        assert first[start:start + len(copied)] == copied, line
        starts.add(start)
    assert len(starts) > 5  # the copy does not always start at the beginning of the line
