"""Built-in sample datasets; word lists and plots (content) apart from the generators (logic)."""
