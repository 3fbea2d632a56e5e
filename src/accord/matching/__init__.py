"""Person matching across scripts and spellings, in the clear or on keyed encodings."""
