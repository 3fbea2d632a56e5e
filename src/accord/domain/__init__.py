"""Plain typed values and pure rules of the exchange; no I/O."""
