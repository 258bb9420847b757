"""Database schema as ordered migrations. `MIGRATIONS[i]` takes a file from version i to i + 1.

Never edit a migration that has shipped; append a new one. JSON columns hold specs and statistics.
A migration is a plain SQL script without BEGIN/COMMIT: `apply_migrations` wraps each one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from workbench.core.base.errors import CorruptProjectError, WorkbenchError
from workbench.core.project.sql import DB_NAME, translate_error

V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    dir TEXT NOT NULL,                 -- datasets/<slug>: train.txt, val.txt, stats.json
    format TEXT NOT NULL,
    sources TEXT NOT NULL,             -- JSON list of the imported paths
    spec TEXT NOT NULL,                -- JSON DatasetSpec
    stats TEXT NOT NULL,               -- JSON statistics
    train_chars INTEGER NOT NULL,
    val_chars INTEGER NOT NULL,
    documents INTEGER NOT NULL,
    sha256 TEXT NOT NULL,              -- of train.txt followed by val.txt
    sample TEXT,                       -- built-in sample key when it came from the gallery
    created TEXT NOT NULL
);
CREATE TABLE tokenizers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,                -- char | bpe | pretrained
    dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    vocab_size INTEGER NOT NULL,
    dir TEXT NOT NULL,                 -- tokenizers/<slug>: tokenizer.json (+ HF files)
    spec TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE token_caches (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    tokenizer_id INTEGER NOT NULL REFERENCES tokenizers(id) ON DELETE CASCADE,
    dir TEXT NOT NULL,                 -- caches/<slug>: train.bin, val.bin
    dtype TEXT NOT NULL,               -- uint16 | uint32
    train_tokens INTEGER NOT NULL,
    val_tokens INTEGER NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (dataset_id, tokenizer_id)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    tokenizer_id INTEGER REFERENCES tokenizers(id) ON DELETE SET NULL,
    arch TEXT NOT NULL,
    model_spec TEXT NOT NULL,
    train_spec TEXT NOT NULL,
    status TEXT NOT NULL,              -- queued running paused finished stopped failed interrupted
    step INTEGER NOT NULL DEFAULT 0,
    best_val_loss REAL,
    dir TEXT NOT NULL,                 -- runs/<slug>
    heartbeat REAL,                    -- unix time, written while running
    message TEXT,
    created TEXT NOT NULL,
    started TEXT,
    ended TEXT
);
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    name TEXT NOT NULL,                -- loss val_loss val_ppl lr grad_norm tokens_per_s memory_mb
    value REAL NOT NULL,
    wall REAL NOT NULL
);
CREATE INDEX metrics_run_name_step ON metrics (run_id, name, step);
CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    dir TEXT NOT NULL,                 -- runs/<slug>/checkpoints/<step>
    sha256 TEXT NOT NULL,              -- of the manifest, which lists each file's sha256
    val_loss REAL,
    is_latest INTEGER NOT NULL DEFAULT 0,
    is_best INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    UNIQUE (run_id, step)
);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    text TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE generations (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    checkpoint_step INTEGER,
    prompt TEXT NOT NULL,
    settings TEXT NOT NULL,
    text TEXT NOT NULL,
    created TEXT NOT NULL
)
"""

V2 = """
CREATE TABLE attention_snapshots (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    path TEXT NOT NULL,                -- runs/<slug>/attention/<step>.npz (float16 L x H x T x T + labels)
    probe_text TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (run_id, step)
)
"""

V3 = """
-- what a token cache was built from, checked before each use (sizes and the tokenizer's sha256; see
-- workbench.core.data.token_cache.CacheRecord): JSON, NULL for caches built before version 3
ALTER TABLE token_caches ADD COLUMN checks TEXT
"""

V4 = """
-- checkpoint history (issue 13): a checkpoint the user pinned is never removed by the run's
-- retention policy (which lives in the run's train_spec: keep_checkpoints, checkpoint_budget_gb)
ALTER TABLE checkpoints ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0
"""

V5 = """
-- branching in the playground (issue 14): one tree per generation from the window; its samples are
-- root nodes, and a branch continues its parent from token `at_token` with another token instead
CREATE TABLE branch_trees (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    checkpoint TEXT NOT NULL,          -- latest | best | STEP | live, as the chooser offered it
    prompt TEXT NOT NULL,
    settings TEXT NOT NULL,            -- JSON SampleSpec
    created TEXT NOT NULL
);
CREATE TABLE branch_nodes (
    id INTEGER PRIMARY KEY,
    tree_id INTEGER NOT NULL REFERENCES branch_trees(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES branch_nodes(id) ON DELETE CASCADE,
    at_token INTEGER,                  -- position (in the parent's text, 0 = first generated token) of the
                                       -- token this branch replaces; NULL for a sample
    tokens TEXT NOT NULL,              -- JSON list of tokens: text, probabilities, alternatives
    created TEXT NOT NULL
);
CREATE INDEX branch_nodes_tree ON branch_nodes (tree_id)
"""

MIGRATIONS: list[str] = [V1, V2, V3, V4, V5]
SCHEMA_VERSION = len(MIGRATIONS)


def apply_migrations(conn: sqlite3.Connection, root: Path) -> int:
    """Run the migrations the file lacks, in order, on an autocommit connection; returns the version found."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for target, script in enumerate(MIGRATIONS[found:], start=found + 1):
        # SQLite's own parser splits the script (a `;` in a string literal or a trigger body does not
        # end a statement). executescript opens no transaction of its own, so the script carries one:
        # a migration and its version bump land together or not at all. The newline before `;` ends
        # a trailing `--` comment.
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{script}\n;\nPRAGMA user_version = {target};\nCOMMIT;")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _migration_error(exc, root, found, target) from exc
    return found


def _migration_error(exc: sqlite3.Error, root: Path, found: int, target: int) -> WorkbenchError:
    """Locked and read-only keep their own advice; any other failure means the file's version number
    does not match its tables (e.g. `user_version` edited by hand): the database is left as it was."""
    error = translate_error(exc, root)
    if type(error) is not WorkbenchError:
        return error
    return CorruptProjectError(
        f"the project database {root / DB_NAME} says schema version {found}, but bringing it to version {target} "
        f"failed ({exc}): its version number does not match its contents; restore it from a backup "
        "(nothing was changed)")
