"""The pinned-peer trust store: the peers this node trusts, by key fingerprint, and signed requests between them."""
