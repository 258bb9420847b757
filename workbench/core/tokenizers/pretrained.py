"""Pretrained tokenizers from a local Hugging Face folder or a hub id, never with remote code.

Offline use must fail fast and clearly: when ``HF_HUB_OFFLINE`` is set, or the hub cannot be
reached within a couple of seconds, only the local cache is consulted (``local_files_only=True``),
so a missing tokenizer is reported at once instead of after the library's network retries.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from workbench.core.base.errors import WorkbenchError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

_TRUE = {"1", "true", "yes", "on"}
_REACH_TIMEOUT_S = 2.0
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model", "vocab.txt")


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set or the hub does not answer."""
    if any(os.environ.get(name, "").strip().lower() in _TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return True
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    reached: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=_REACH_TIMEOUT_S).close()
            reached.append(True)
        except OSError:
            pass

    # A thread, because name resolution ignores the socket timeout and can hang for long.
    thread = threading.Thread(target=probe, name="hub-probe", daemon=True)
    thread.start()
    thread.join(_REACH_TIMEOUT_S + 0.5)
    return not reached


def looks_like_path(source: str) -> bool:
    return (os.path.isabs(source) or source.startswith(("./", "../", "~", ".\\", "..\\"))
            or Path(source).expanduser().exists())


def load_pretrained_tokenizer(source: str) -> PreTrainedTokenizerFast:
    """A fast (tokenizer.json based) Hugging Face tokenizer from a folder or a hub id."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if looks_like_path(source):
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise WorkbenchError(f"tokenizer folder {folder} does not exist; check the path or pass a hub id")
        if not any((folder / name).exists() for name in _TOKENIZER_FILES):
            raise WorkbenchError(
                f"{folder} holds no tokenizer files (tokenizer.json or tokenizer_config.json); "
                "pass a folder written by save_pretrained")
        name, local_only, where = str(folder), True, f"folder {folder}"
    else:
        name, local_only, where = source, hub_offline(), f"hub id {source!r}"
    try:
        tokenizer = _auto_tokenizer(AutoTokenizer, PreTrainedTokenizerFast, name, local_only)
    except (OSError, ValueError, KeyError, ImportError, RuntimeError) as exc:
        if local_only and where.startswith("hub"):
            hint = ("the hub is not reachable (or HF_HUB_OFFLINE is set) and it is not in the local "
                    "Hugging Face cache: download it once on a connected machine, or pass a local folder")
        else:
            hint = "check the name, or pass a folder written by save_pretrained"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkbenchError(f"could not load the tokenizer from {where}: {hint} ({first_line})") from exc
    if not isinstance(tokenizer, PreTrainedTokenizerFast):  # a slow one has no backend_tokenizer
        raise WorkbenchError(
            f"the tokenizer from {where} has no fast version (tokenizer.json); "
            "pick one that ships tokenizer.json")
    return tokenizer


def _auto_tokenizer(auto: Any, fast: Any, name: str, local_only: bool) -> PreTrainedTokenizerFast:
    """AutoTokenizer, or the plain fast tokenizer from tokenizer.json when the tokenizer's own class
    is in a transformers model family this installation lacks (the installed app carries only the
    families it trains: any tokenizer.json still loads)."""
    try:
        return auto.from_pretrained(name, local_files_only=local_only, trust_remote_code=False)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("transformers.models."):
            raise
        return fast.from_pretrained(name, local_files_only=local_only, trust_remote_code=False)
