"""Shared fixtures for the chain tests (tests/ is on sys.path through this conftest)."""

from __future__ import annotations

import pytest

from chainkit import small


@pytest.fixture
def small_scenario():
    return small()
