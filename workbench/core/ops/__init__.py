"""Project-level operations the command line and the window both call."""
