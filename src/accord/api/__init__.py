"""The REST API (FastAPI): officers' API under /api/v1, the peer's federation channel under /federation/v1."""
