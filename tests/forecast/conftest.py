import pytest

from ketenplan.forecast.backtest import run_backtest


@pytest.fixture(scope="session")
def small_backtest():
    """A reduced backtest: three countries, all models, scored steps 1, 6 and 12."""
    return run_backtest(["NL", "DE", "SE"], horizons=(1, 6, 12), n_jobs=1)
