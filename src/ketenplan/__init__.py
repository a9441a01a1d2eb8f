"""ketenplan: integrated planning, forecasting and scenario simulation for the Dutch migration chain."""

from __future__ import annotations

__version__ = "0.1.0"
