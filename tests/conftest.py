"""Shared fixtures for the chain tests."""

from __future__ import annotations

import pytest

from ketenplan.testing import small_scenario


@pytest.fixture
def small_scenario_fixture():
    return small_scenario()
