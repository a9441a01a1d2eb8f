"""Pillar-6 integration models, used as post-processors of a chain run (P6.3-P6.5).

- :func:`employment_over_time`, :func:`employment_by_cohort` -- work over time, benefit
  dependency and benefit cost by years since permit, with the effect of waiting (P6.4);
- :func:`civic_integration`, :func:`civic_by_cohort` -- Wi2013 / Wi2021 civic integration (P6.3);
- :func:`housing_market` -- realisable housing of permit holders per half-year (P6.5);
- :func:`spreidingswet_key` -- Spreidingswet reception places per municipality (P6.5);
- :mod:`ketenplan.integration.fit` -- the fits behind the defaults, with out-of-sample checks.

Per-case inputs are a dict of NumPy arrays (see :mod:`ketenplan.integration.cases`); all
results are deterministic expected values. Parameters: :mod:`ketenplan.scenario.pillar6`.
"""

from ketenplan.integration.cases import Cases, as_cases
from ketenplan.integration.civic import civic_by_cohort, civic_integration
from ketenplan.integration.employment import case_employment, employment_by_cohort, employment_over_time
from ketenplan.integration.housing import HousingCapacity, housing_market, ukrainian_competing_dwellings
from ketenplan.scenario.pillar6 import CivicIntegration, Employment, HousingMarket, IntegrationParams, Spreiding
from ketenplan.integration.spreiding import compare_with_targets, spreidingswet_key, spreidingswet_provinces

__all__ = ["Cases", "as_cases", "employment_over_time", "employment_by_cohort", "case_employment",
           "civic_integration", "civic_by_cohort", "housing_market", "HousingCapacity",
           "ukrainian_competing_dwellings", "spreidingswet_key", "spreidingswet_provinces", "compare_with_targets",
           "Employment", "CivicIntegration", "HousingMarket", "Spreiding", "IntegrationParams"]
