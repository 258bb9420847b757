"""Generation one token per yield, sampling, and evaluation (perplexity, per-token loss)."""
