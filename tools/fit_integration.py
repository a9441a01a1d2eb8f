"""Recompute the fitted defaults of the integration models and their out-of-sample check.

Usage: python tools/fit_integration.py DATA_DIR [--cutoff 2019]

DATA_DIR holds the published figures with a source URL per row (as shipped in
src/ketenplan/data/integration/): employment_cohorts.csv, benefit_cohorts.csv,
permits_2014_by_nationality.csv, civic_integration_wi2013.csv. Only rows observed before the end
of the cut-off year are fitted; the rest are predicted and printed with their error (share
points), per cohort and year. Paste changed values into src/ketenplan/scenario/pillar6.py;
tests/integration/test_integration_fit.py checks that the two agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ketenplan.errors import KetenplanError
from ketenplan.integration.fit import fit_all


def _role(row) -> str:
    if not row.in_sample:
        return "held back"
    return "fitted" if row.measure == "receives_benefit" else "in-sample check, other measure"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path, help="folder with the integration CSVs")
    ap.add_argument("--cutoff", type=int, default=2019, help="last calendar year whose observations are fitted")
    args = ap.parse_args(argv)
    try:
        f = fit_all(args.data_dir, cutoff=args.cutoff)
    except KetenplanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    e, b, w = f.employment, f.benefits, f.wi2013
    print(f"# Integration fits, cut-off {args.cutoff} (observations before the end of {args.cutoff})\n")
    print("## Employment (Employment section)")
    print(f"plateau = {e.plateau} (anchor, not fitted)")
    print(f"t50_years = {e.t50_2014:.4g}\nshape = {e.shape:.4g}\ncohort_speedup_per_year = {e.speedup_per_year:.4g}")
    print(f"cohort_first, cohort_last = {e.first_cohort}, {e.last_cohort}")
    print("group_speed = {" + ", ".join(f"'{k}': {v:.4g}" for k, v in e.group_speed.items()) + "}")
    print("nationality speed (2014 table): " + ", ".join(f"{k} {v:.3g}" for k, v in sorted(e.nationality_speed.items())))
    print(f"in-sample RMSE = {e.in_sample_rmse_pp:.2f} pp\n")
    print(f"benefit_top = {b.top:.4g}, benefit_floor = {b.floor} (anchor), benefit_power = {b.power:.4g}\n")
    print(f"## Wi2013 (CivicIntegration section)\nwi2013_exempt_share = {w.exempt}, wi2013_pass_share = "
          f"{w.pass_share:.4g}, wi2013_median_years = {w.median_years:.4g}, wi2013_sigma = {w.sigma:.4g}\n")
    print("## Held-back published figures (employment)\n")
    print(f.validation_markdown())
    print("\n## Benefit dependency, all rows\n")
    for r in b.table.itertuples():
        print(f"cohort {r.cohort}, {r.years_since_permit:g} y, {r.measure}: observed {100 * r.share_on_benefit:.0f} %, "
              f"model {100 * r.predicted:.1f} % ({_role(r)}; {r.error_pp:+.1f} pp)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
