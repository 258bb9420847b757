"""The Data panel: import, statistics, samples, tokenizers."""
