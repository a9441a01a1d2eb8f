"""Specific, actionable errors and warnings of ketenplan.

Every error names where the problem is (file, key or row), what was expected and what
was found, and, where one exists, how to fix it.
"""

from __future__ import annotations


class KetenplanError(Exception):
    """Base class of all ketenplan errors."""


class ScenarioError(KetenplanError, ValueError):
    """A scenario file or value is structurally wrong (unknown key, wrong type, out of range)."""


class DataError(KetenplanError, ValueError):
    """An input data file (CSV, facts, series) is missing, malformed or inconsistent."""


class SolverError(KetenplanError, RuntimeError):
    """A solver failed in a way that is not a status (e.g. the library is unusable)."""


class InvariantError(KetenplanError, AssertionError):
    """A model invariant was violated (persons not conserved, negative stock, capacity exceeded)."""


class KetenplanWarning(UserWarning):
    """Base class of ketenplan's own warnings; the test suite turns them into errors."""


class PlausibilityWarning(KetenplanWarning):
    """A named plausibility check failed (raised as ScenarioError under strict mode)."""


def data_error(file: object, what: str, *, row: object | None = None, column: object | None = None,
               expected: str | None = None, found: object | None = None, fix: str | None = None) -> DataError:
    """Build a DataError whose message names the file, row, column, expectation and finding."""
    parts = [f"{file}"]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    msg = ", ".join(parts) + f": {what}"
    if expected is not None:
        msg += f"; expected {expected}"
    if found is not None:
        msg += f", found {found!r}"
    if fix:
        msg += f". Fix: {fix}"
    return DataError(msg)
