"""Model specs to torch modules: transformers GPT-2/Llama/BERT, the lean GPT, the LSTM, presets, init."""
