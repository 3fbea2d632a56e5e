"""The node's append-only record of state changes."""
