"""Fixtures of the unit tests that need more than one module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.exchange.screen_workers import ScreenWorkers


@pytest.fixture
def workers() -> Iterator[ScreenWorkers]:
    """Two screen workers that take any batch of one item or more (once warm)."""
    pool = ScreenWorkers(2, parallel_from=1)
    yield pool
    pool.close()
