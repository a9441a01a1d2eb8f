"""Shared fixtures for the chain tests."""

from __future__ import annotations

import os
import tempfile

import pytest

from ketenplan.testing import small_scenario

# The forecast fit cache (ketenplan.forecast.fitcache) of a test session lives in a folder of its own,
# never in the user's cache: a test never answers from entries another run left behind.
if not os.environ.get("KETENPLAN_CACHE_DIR"):
    os.environ["KETENPLAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="ketenplan-test-cache-")


@pytest.fixture
def small_scenario_fixture():
    return small_scenario()
