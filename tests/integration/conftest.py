"""Fixtures of the integration-model tests."""

from __future__ import annotations

import pytest

from intkit import make_cases


@pytest.fixture
def cases():
    return make_cases()
