"""EU solidarity and responsibility sharing (P3.1, P3.2, P2.1).

Distribution keys of the 2015 relocation decisions, the 2016 Dublin reform proposal and the
2024 Pact; integer allocation with a stated rounding rule; replays of real annual applications
through the 2016 corrective mechanism and the Pact's solidarity pool; responsibility-sharing
indicators for host countries; sourced Dublin rates for the national chain.
"""

from ketenplan.solidarity.allocate import ROUNDINGS, allocate, allocate_shares, largest_remainder, round_each
from ketenplan.solidarity.dublin import DublinRates, SourcedValue, dublin_rates
from ketenplan.solidarity.indicators import MEASURES, host_indicators
from ketenplan.solidarity.keys import distribution_key, key_inputs, key_shares
from ketenplan.solidarity.schemes import SCHEMES, Scheme, get_scheme, parameters, participants
from ketenplan.solidarity.simulate import (corrective_allocation, parse_years, replayable_years, simulate,
                                           simulate_dublin_2016, simulate_pact_2024, waterfill)

__all__ = [
    "ROUNDINGS", "MEASURES", "SCHEMES", "corrective_allocation", "DublinRates", "Scheme", "SourcedValue",
    "allocate", "allocate_shares", "distribution_key", "dublin_rates", "get_scheme", "host_indicators",
    "key_inputs", "key_shares", "largest_remainder", "parameters", "parse_years", "participants", "replayable_years",
    "round_each", "simulate", "simulate_dublin_2016", "simulate_pact_2024", "waterfill",
]
