"""Shared HTTP plumbing of the API and the web UI: request dependencies, RFC 9457 problems, report downloads."""
