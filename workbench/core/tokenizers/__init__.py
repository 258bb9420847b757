"""Character, byte-level BPE and pretrained tokenizers behind one `Tokenizer` interface."""
