"""Imported by the screen workers' fork server before it forks its first worker (multiprocessing preloads modules by
name, and runs nothing else): the shipped packs' screens and the search words' pattern are built there once and set
aside from the collector, so that each worker forked from it starts with them built rather than building them itself
(1.4 s of CPU a worker), and its first collection does not walk them."""

from __future__ import annotations

import gc

from accord.policy.warm import warm_shipped_policies

warm_shipped_policies()
gc.collect()
gc.freeze()
