"""The single writer of a run's rows: metrics, samples, checkpoints, status and heartbeat.

The training loop hands every event to `RunRecorder.record` (also the ones it cannot yield, from its
`finally`). Metrics are buffered and written in one transaction per flush: at the first step at
least `flush_every_s` (1 s) after the last flush, at every evaluation, at every checkpoint and at the
end, so a killed process loses at most about a second of metrics (plus the step in progress). A
flush of a second's steps costs a few milliseconds (`bench/bench_train.py` prints the share).
The heartbeat (unix time in `runs.heartbeat`) shows when the run last wrote; a small thread also
writes it every `heartbeat_every_s` through long steps. Whether the process is alive is decided by
the run's lock (`run_lock`), which the training process holds, not by the heartbeat's age.

Rows go through sqlite-utils tables inside `ProjectStore.transaction`; the metrics themselves go
through `executemany`, which measured two to three times faster (see `flush`). A few statements stay SQL because
they change many rows or keep a value (`started = COALESCE(...)`), which the table API cannot say.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from workbench.core.base.events import (
    AttentionSnapshotSaved,
    CheckpointSaved,
    EvalFinished,
    RunFinished,
    RunStatusChanged,
    SampleGenerated,
    StepLogged,
)
from workbench.core.project.checkpoint_history import tree_size
from workbench.core.project.checkpoints import remove_checkpoint_dir
from workbench.core.project.retention import Held, RetentionPolicy, plan_removals
from workbench.core.project.store import ProjectStore, now_iso

STEP_METRICS = ("loss", "lr", "grad_norm", "tokens_per_s", "memory_mb")
RESUME_METRIC = "resume"  # a metrics row at each step a run was resumed from; not a curve
_SAMPLE_COLUMNS = ("run_id", "step", "prompt", "text", "created")


class _Heartbeat(threading.Thread):
    """Writes `runs.heartbeat` every `every_s` on its own connection until stopped."""

    def __init__(self, store: ProjectStore, run_id: int, every_s: float) -> None:
        super().__init__(name=f"workbench-heartbeat-{run_id}", daemon=True)
        self.store, self.run_id, self.every_s = store, run_id, every_s
        self.halt = threading.Event()

    def run(self) -> None:
        conn = self.store.connect()
        try:
            while not self.halt.wait(self.every_s):
                with suppress(sqlite3.Error):  # busy for longer than the timeout: the next beat will do
                    beat = conn.execute("UPDATE runs SET heartbeat = ? WHERE id = ? AND status IN ('running', 'paused')",
                                        (time.time(), self.run_id))
                    if beat.rowcount == 0:  # the run ended (or was marked interrupted): nothing to keep alive
                        return
        finally:
            conn.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)


class RunRecorder:
    """Writes one run's records; `seconds_writing` is the time spent in the database (for the 1% goal)."""

    def __init__(self, store: ProjectStore, run_id: int, *, flush_every_s: float = 1.0,
                 heartbeat_every_s: float = 5.0, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.run_id = run_id
        self.flush_every_s = flush_every_s
        self.heartbeat_every_s = heartbeat_every_s
        self.clock = clock
        run = store.get_run(run_id)
        self.step = int(run["step"] or 0)
        self.best_val_loss: float | None = run["best_val_loss"]
        self.best_step: int | None = None
        self.policy = RetentionPolicy.from_train_spec(run["train_spec"] if isinstance(run["train_spec"], dict) else None)
        self.max_steps = int((run["train_spec"] or {}).get("max_steps") or 0) if isinstance(run["train_spec"], dict) else 0
        self._sizes: dict[int, int] = {}  # checkpoint row id -> bytes (a saved checkpoint does not change)
        self.last_eval: tuple[int, float] | None = None
        self._metrics: list[tuple[int, int, str, float, float]] = []
        self._samples: list[tuple[int, int, str, str, str]] = []
        self._last_flush = clock()
        self._last_heartbeat = 0.0
        self.seconds_writing = 0.0
        self.flushes = 0
        self.finished = False
        self._heartbeat: _Heartbeat | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self, step: int, *, resumed: bool) -> None:
        """Status running. On resume, records past `step` (from a later, abandoned attempt) go."""
        now = self.clock()
        self.step = step

        def write(db: Database) -> None:
            if resumed:
                for table in ("metrics", "samples", "attention_snapshots"):
                    db.table(table).delete_where("run_id = ? AND step > ?", (self.run_id, step))
                if step > 0:  # where it went on from, for the curves' markers (value: the step it aims at)
                    db.execute("DELETE FROM metrics WHERE run_id = ? AND name = ? AND step = ?",
                               (self.run_id, RESUME_METRIC, step))
                    db.execute("INSERT INTO metrics (run_id, step, name, value, wall) VALUES (?, ?, ?, ?, ?)",
                               (self.run_id, step, RESUME_METRIC, float(self.max_steps), now))
            db.execute("UPDATE runs SET status = 'running', step = ?, heartbeat = ?, message = NULL, ended = NULL, "
                       "started = COALESCE(started, ?) WHERE id = ?", (step, now, now_iso(), self.run_id))

        self._timed(write)
        if resumed:
            self._drop_checkpoints(lambda row: row["step"] > step)
        self.remove_orphans()
        self._last_heartbeat = now
        if self.clock is time.time and self._heartbeat is None:  # a test's fake clock writes its own beats
            self._heartbeat = _Heartbeat(self.store, self.run_id, self.heartbeat_every_s)
            self._heartbeat.start()

    def finish(self, status: str, step: int, message: str = "") -> None:
        self.step = step
        self.finished = True
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        self.flush()
        self._timed(lambda db: db.table("runs").update(self.run_id, {
            "status": status, "step": step, "message": message or None, "ended": now_iso(), "heartbeat": self.clock()}))

    # ---- events ------------------------------------------------------------------------------

    def record(self, event: Any) -> None:
        wall = self.clock()
        if isinstance(event, StepLogged):
            self.step = event.step
            for name in STEP_METRICS:
                self._metrics.append((self.run_id, event.step, name, float(getattr(event, name)), wall))
            if wall - self._last_flush >= self.flush_every_s:
                self.flush()
        elif isinstance(event, EvalFinished):
            self.step = event.step
            self.last_eval = (event.step, event.val_loss)
            self._metrics.append((self.run_id, event.step, "val_loss", event.val_loss, wall))
            self._metrics.append((self.run_id, event.step, "val_ppl", event.val_ppl, wall))
            if event.train_loss is not None:
                self._metrics.append((self.run_id, event.step, "train_loss", event.train_loss, wall))
            if event.best:
                self.best_val_loss, self.best_step = event.val_loss, event.step
            self.flush()
        elif isinstance(event, SampleGenerated):
            self._samples.append((self.run_id, event.step, event.prompt, event.text, now_iso()))
        elif isinstance(event, CheckpointSaved):
            self.flush()
            self._add_checkpoint(event)
        elif isinstance(event, AttentionSnapshotSaved):
            self._timed(lambda db: db.table("attention_snapshots").insert({
                "run_id": self.run_id, "step": event.step, "path": event.path, "probe_text": event.probe_text,
                "created": now_iso()}, replace=True))
        elif isinstance(event, RunFinished):
            self.finish(event.status, event.step, event.message)
        elif isinstance(event, RunStatusChanged):
            self._timed(lambda db: db.table("runs").update(self.run_id, {"status": event.status, "heartbeat": wall}))
            self._last_heartbeat = wall

    def tick(self) -> None:
        """Called while busy without events (evaluation, pause): heartbeat and flush when due."""
        now = self.clock()
        if now - self._last_flush >= self.flush_every_s or now - self._last_heartbeat >= self.heartbeat_every_s:
            self.flush()

    def flush(self) -> None:
        """Pending metrics and samples, step, best loss and heartbeat in one transaction."""
        metrics, samples = self._metrics, self._samples
        self._metrics, self._samples = [], []
        now = self.clock()

        def write(db: Database) -> None:
            if metrics:
                # executemany, not insert_all: a 1000-row flush in one transaction took 2.5-3.6 ms of
                # CPU against 4.8-8.4 ms for insert_all with tuple rows and 6.1-10.8 ms with dicts
                # (timeit, best of 5 x 20, three runs, 2-core CPU, sqlite-utils 4.2), and the
                # training loop waits for the flush. (Table.update below costs ~0.1 ms per flush.)
                db.conn.executemany("INSERT INTO metrics (run_id, step, name, value, wall) VALUES (?, ?, ?, ?, ?)",
                                    metrics)
            if samples:
                db.table("samples").insert_all([dict(zip(_SAMPLE_COLUMNS, row, strict=True)) for row in samples])
            db.table("runs").update(self.run_id, {"step": self.step, "best_val_loss": self.best_val_loss,
                                                  "heartbeat": now})

        self._timed(write)
        self._last_flush = self._last_heartbeat = now
        self.flushes += 1

    # ---- checkpoints -------------------------------------------------------------------------

    def _add_checkpoint(self, event: CheckpointSaved) -> None:
        val_loss = self.last_eval[1] if self.last_eval and self.last_eval[0] == event.step else None
        is_best = self.best_step == event.step

        def write(db: Database) -> None:
            checkpoints = db.table("checkpoints")
            checkpoints.delete_where("run_id = ? AND step = ?", (self.run_id, event.step))
            db.execute("UPDATE checkpoints SET is_latest = 0 WHERE run_id = ?", (self.run_id,))
            if is_best:
                db.execute("UPDATE checkpoints SET is_best = 0 WHERE run_id = ?", (self.run_id,))
            checkpoints.insert({"run_id": self.run_id, "step": event.step, "dir": event.path, "sha256": event.sha256,
                                "val_loss": val_loss, "is_latest": 1, "is_best": int(is_best), "created": now_iso()})

        self._timed(write)
        self._apply_retention()

    def _apply_retention(self) -> None:
        """Thin the run's checkpoints under its policy (`retention`) after a new one was saved."""
        rows = self.store.list_checkpoints(self.run_id)
        # every folder is confined (and measured) before anything goes: a row of a tampered project
        # that leads outside it stops the run with OutsideProjectError, and nothing is deleted
        held = [Held(r["step"], self._size(r), protected=bool(r["is_latest"] or r["is_best"] or r["pinned"]))
                for r in rows]
        doomed = set(plan_removals(held, self.policy))
        if doomed:
            self._drop_checkpoints(lambda row: row["step"] in doomed, spare_kept=True)

    def _size(self, row: dict[str, Any]) -> int:
        folder = self._folder(row)
        if row["id"] not in self._sizes:
            self._sizes[row["id"]] = tree_size(folder) if folder.is_dir() else 0
        return self._sizes[row["id"]]

    def _folder(self, row: dict[str, Any]) -> Path:
        return self.store.path(row["dir"], what=f"checkpoint {row['step']} (row {row['id']}) of run {self.run_id}")

    def _drop_checkpoints(self, doomed: Callable[[dict[str, Any]], bool], *, spare_kept: bool = False) -> None:
        """Delete the rows matching `doomed`, then their folders.

        Rows first: a crash in between leaves a folder without a row (unlisted bytes, swept by the
        next start's `remove_orphans`), never a row whose files are gone. With `spare_kept`, rows that became
        latest, best or pinned meanwhile (a user pins from another process) are re-checked inside
        the deleting transaction and stay, and so do their folders."""
        rows = [r for r in self.store.list_checkpoints(self.run_id) if doomed(r)]
        if not rows:
            return
        folders = {r["id"]: self._folder(r) for r in rows}  # all confined before anything goes
        ids = list(folders)
        marks = " AND pinned = 0 AND is_latest = 0 AND is_best = 0" if spare_kept else ""
        gone: list[int] = []

        def delete(db: Database) -> None:
            where = f"id IN ({', '.join('?' * len(ids))}){marks}"
            gone.extend(r["id"] for r in db.query(f"SELECT id FROM checkpoints WHERE {where}", ids))
            db.execute(f"DELETE FROM checkpoints WHERE {where}", ids)

        self._timed(delete)
        for row_id in gone:
            remove_checkpoint_dir(folders[row_id])
            self._sizes.pop(row_id, None)

    def remove_orphans(self) -> list[Path]:
        """Checkpoint folders without a row: a process killed between deleting a row and its folder
        (or between saving a folder and its row) left them; nothing can open them, they only take space."""
        run = self.store.get_run(self.run_id)
        parent = self.store.path(run["dir"], "checkpoints", what=f"the checkpoints folder of run {run['name']!r}")
        if not parent.is_dir():
            return []
        listed = {self._folder(r) for r in self.store.list_checkpoints(self.run_id)}
        orphans = [child for child in parent.iterdir()
                   if child.name.isdigit() and child.is_dir() and not child.is_symlink() and child.resolve() not in listed]
        for child in orphans:
            remove_checkpoint_dir(child)
        return orphans

    def _timed(self, write: Callable[[Database], Any]) -> None:
        started = time.perf_counter()
        with self.store.transaction():
            write(self.store.db)  # this thread's handle, on the connection the transaction holds
        self.seconds_writing += time.perf_counter() - started
