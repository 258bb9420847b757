"""The Model panel: architecture, settings, estimates."""
