"""What the model panel offers to choose from: the project's datasets and tokenizers, the vocabulary
a choice gives, and the devices this machine has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QComboBox

from workbench.ui.widgets.spec_form import refill_combo

AUTO_TOKENIZER = "Automatic"
CHAR_SPECIALS = 3  # <|endoftext|>, [MASK], <unk>: reserved by every character tokenizer
GUESSED_VOCAB = 68  # before anything is known: about the characters of an English text
DEVICES = (("auto", "Automatic"), ("cpu", "CPU"), ("cuda", "CUDA GPU"), ("mps", "Apple GPU (MPS)"))


@dataclass(frozen=True)
class Vocabulary:
    size: int
    exact: bool  # False: guessed (no tokenizer exists yet)
    text: str


def fill_data_choices(dataset: QComboBox, tokenizer: QComboBox, datasets: list[dict[str, Any]],
                      tokenizers: list[dict[str, Any]]) -> None:
    """The project's datasets and tokenizers (plus "Automatic"), keeping the selection where it can."""
    refill_combo(dataset, [(d["name"], d["name"]) for d in datasets])
    refill_combo(tokenizer, [(AUTO_TOKENIZER, ""), *((f"{t['name']} ({t['kind']}, {t['vocab_size']:,} tokens)",
                                                      t["name"]) for t in tokenizers)])


def vocabulary(datasets: list[dict[str, Any]], tokenizers: list[dict[str, Any]], dataset_name: str | None,
               tokenizer_name: str | None) -> Vocabulary:
    """The vocabulary training would use: the chosen tokenizer's, else (automatic) the dataset's newest
    tokenizer's, else that of the character tokenizer a run would make (guessed from the statistics)."""
    chosen = next((t for t in tokenizers if t["name"] == tokenizer_name), None) if tokenizer_name else None
    dataset = next((d for d in datasets if d["name"] == dataset_name), None)
    if chosen is None and dataset is not None:
        chosen = max((t for t in tokenizers if t["dataset_id"] == dataset["id"]), key=lambda t: t["id"], default=None)
    if chosen is not None:
        size = int(chosen["vocab_size"])
        return Vocabulary(size, True, f"{size:,} tokens ({chosen['kind']} tokenizer {chosen['name']})")
    if dataset is None:
        return Vocabulary(GUESSED_VOCAB, False, "-")
    unique = (dataset.get("stats") or {}).get("unique_characters")
    size = int(unique) + CHAR_SPECIALS if unique else GUESSED_VOCAB
    return Vocabulary(size, False, f"about {size:,} tokens (a character tokenizer will be made)")


def label_devices(box: QComboBox, devices: dict[str, str]) -> None:
    """Say in the device list what "Automatic" picks and which GPUs are missing."""
    if not devices:
        return
    names = dict(DEVICES)
    auto = {"cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU"}.get(devices.get("auto", ""), "")
    texts = {"auto": f"Automatic ({auto})" if auto else names["auto"],
             "cuda": f"CUDA GPU ({devices['cuda']})" if devices.get("cuda") else "CUDA GPU (not found)",
             "mps": names["mps"] if devices.get("mps") else "Apple GPU (MPS, not found)"}
    for key, text in texts.items():
        box.setItemText(box.findData(key), text)
