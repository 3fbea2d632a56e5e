"""Shared HTTP plumbing of the API and the web UI: request dependencies and RFC 9457 problem responses."""
