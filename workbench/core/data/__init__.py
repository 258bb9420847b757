"""Importing text: readers, cleaning, split, statistics, preview, and the token caches training reads."""
