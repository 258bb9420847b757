"""Specs, events, errors and devices: the vocabulary every other room speaks."""
