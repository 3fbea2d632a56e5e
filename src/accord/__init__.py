"""Accord: each party's node for signed, encrypted, policy-checked exchange with its peer."""

__version__ = "0.1.0"

from accord.logs import configure_default

configure_default()
