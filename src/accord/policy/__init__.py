"""Disclosure policy: the decision every outgoing message passes before it may leave."""
