"""Node keys, canonical JSON, envelopes, receipts and signed node descriptors (JOSE via joserfc)."""
