"""The training loop as a generator: batches, optimizer, schedules, evaluation, estimates."""
