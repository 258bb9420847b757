"""The project store: SQLite schema and migrations, run records (one writer), checkpoints on disk."""
