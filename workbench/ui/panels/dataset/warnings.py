"""What deserves a warning in a dataset's statistics (the `stats` JSON of a dataset row).

Pure Python on the dict `workbench.core.data.stats.build_stats` writes, so the rules are easy to
test and to read: duplicates, documents shared by train and validation, very short and very long
documents, no validation split or a lopsided one, skipped files, a very small dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from workbench.core.data.split import uneven_split_message

SHORT_DOC_CHARS = 20  # shorter documents teach little and are often headers or debris
LONG_DOC_FACTOR = 20  # a document this many times the mean length dominates what is learned
LONG_DOC_MIN_CHARS = 10_000
SMALL_DATASET_CHARS = 20_000
EXAMPLE_CHARS = 70
_VISIBLE = {ord("\n"): "⏎", ord("\t"): "→", ord("\r"): "␍"}


@dataclass(frozen=True)
class DatasetWarning:
    key: str  # "duplicates" | "overlap" | "short" | "long" | "no-validation" | "uneven-split" | "skipped"
    #           | "small" | "dropped"
    text: str
    level: str = "warning"  # "warning" | "info"


def example_text(text: str, limit: int = EXAMPLE_CHARS) -> str:
    """One line, quoted, cut to `limit` characters: for showing a document in a warning."""
    text = str(text).translate(_VISIBLE)
    return f"“{text[:limit]}{'…' if len(text) > limit else ''}”"


def _short_documents(length: dict[str, Any]) -> tuple[int, bool]:
    """(documents surely shorter than SHORT_DOC_CHARS, whether there may be more) from the histogram."""
    histogram = length.get("histogram") or {}
    edges, counts = histogram.get("edges") or [], histogram.get("counts") or []
    surely = sum(c for c, upper in zip(counts, edges[1:], strict=False) if upper <= SHORT_DOC_CHARS)
    return surely, length.get("min", SHORT_DOC_CHARS) < SHORT_DOC_CHARS


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "-"


def dataset_warnings(stats: dict[str, Any]) -> list[DatasetWarning]:
    """The warnings for one dataset's statistics, most important first; [] for older rows without stats."""
    if not stats or "documents" not in stats:
        return []
    out: list[DatasetWarning] = []
    documents = int(stats.get("documents", 0))
    duplicates = stats.get("duplicates") or {}
    if duplicates.get("documents"):
        n = int(duplicates["documents"])
        examples = "; ".join(f"{example_text(e.get('text', ''))} ×{e.get('count', 2)}"
                             for e in duplicates.get("examples", [])[:3])
        out.append(DatasetWarning("duplicates", f"{n:,} documents repeat an earlier one exactly "
                                  f"({_percent(n, documents)} of the documents): a model memorises repeated "
                                  f"text. For example {examples}." if examples else
                                  f"{n:,} documents repeat an earlier one exactly."))
    overlap = stats.get("train_val_overlap") or {}
    if overlap.get("documents"):
        n = int(overlap["documents"])
        examples = "; ".join(example_text(e.get("text", "")) for e in overlap.get("examples", [])[:2])
        out.append(DatasetWarning("overlap", f"{n:,} validation documents also occur in the training split, so "
                                  "the validation loss will look better than it is. Remove the duplicates "
                                  f"and import again.{' For example ' + examples + '.' if examples else ''}"))
    length = stats.get("document_length") or {}
    if documents > 1 and length:
        surely, some = _short_documents(length)
        if surely:
            out.append(DatasetWarning("short", f"{surely:,} documents are shorter than {SHORT_DOC_CHARS} "
                                      "characters; very short documents are often titles or leftovers. "
                                      "Check the field or column you chose."))
        elif some:
            out.append(DatasetWarning("short", f"Some documents are shorter than {SHORT_DOC_CHARS} characters "
                                      f"(the shortest has {length['min']})."))
        longest, mean = int(length.get("max", 0)), float(length.get("mean", 0.0))
        if mean and longest >= LONG_DOC_MIN_CHARS and longest >= LONG_DOC_FACTOR * mean:
            out.append(DatasetWarning("long", f"The longest document has {longest:,} characters, "
                                      f"{longest / mean:.0f}× the mean ({mean:,.0f}); it will dominate what the "
                                      "model learns. Consider splitting it or leaving it out."))
    if stats.get("split") == "none":
        out.append(DatasetWarning("no-validation", "There is no validation split, so training cannot report a "
                                  "validation loss. Import again with a validation share above 0."))
    if stats.get("split") == "documents" and "val_fraction_requested" in stats:
        uneven = uneven_split_message(float(stats["val_fraction_requested"]), int(stats.get("train_chars", 0)),
                                      int(stats.get("val_chars", 0)), documents)
        if uneven:
            out.append(DatasetWarning("uneven-split", uneven[0].upper() + uneven[1:] + "."))
    skipped = int(stats.get("skipped_count", 0))
    if skipped:
        entries = stats.get("skipped", [])
        names = ", ".join(PurePath(str(s.get("path", "?"))).name for s in entries[:4])
        reason = str(entries[0].get("reason", "")).split(";")[0] if entries else ""
        out.append(DatasetWarning("skipped", f"{skipped:,} files were skipped ({names}{', …' if skipped > 4 else ''})"
                                  f"{': ' + reason if reason else ''}.",
                                  level="info"))
    characters = int(stats.get("characters", 0))
    if characters and characters < SMALL_DATASET_CHARS:
        out.append(DatasetWarning("small", f"Only {characters:,} characters: a model will memorise this quickly. "
                                  "Watch the validation loss, and keep the model small."))
    if stats.get("empty_documents_dropped"):
        out.append(DatasetWarning("dropped", f"{int(stats['empty_documents_dropped']):,} empty documents were "
                                  "left out.", level="info"))
    return out
