"""Replays, indicators, Dublin rates and the command line, on the shipped data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ketenplan.errors import DataError, ScenarioError
from ketenplan.solidarity import (corrective_allocation, dublin_rates, host_indicators, parse_years,
                                  simulate_dublin_2016, simulate_pact_2024)


@pytest.fixture(scope="module")
def dublin_replay():
    return simulate_dublin_2016("2015-2024")


def test_dublin_replay_conserves_and_respects_ceiling(dublin_replay):
    r = dublin_replay
    assert sorted(r.year.unique()) == list(range(2015, 2025))
    per_year = r.groupby("year")[["relocations_in", "relocations_out"]].sum()
    assert (per_year.relocations_in == per_year.relocations_out).all()
    receivers = r[r.relocations_in > 0]
    assert (receivers.actual_share_pct < 100).all()
    assert (receivers.share_after_pct <= 100 + 1e-6).all()
    senders = r[r.relocations_out > 0]
    assert (senders.actual_share_pct > 150).all()
    assert (senders.share_after_pct >= 150 - 1e-6).all()
    assert r.groupby("year").key.sum().apply(lambda s: abs(s - 1) < 1e-9).all()


def test_dublin_replay_2015_relieves_germany_and_sweden(dublin_replay):
    y = dublin_replay[dublin_replay.year == 2015].set_index("iso3")
    assert y.loc["DEU", "relocations_out"] > 0 and y.loc["SWE", "relocations_out"] > 0
    assert y.loc["NLD", "relocations_out"] == 0 and y.loc["NLD", "relocations_in"] > 0


def test_dublin_opt_out_pays_250000_per_applicant():
    r = simulate_dublin_2016("2016", opt_out=["NLD", "POL"])
    nl = r[r.iso3 == "NLD"].iloc[0]
    assert nl.relocations_in == 0 and nl.opt_out_persons > 0
    assert nl.solidarity_contribution_eur == 250_000 * nl.opt_out_persons
    assert r.relocations_in.sum() == r.relocations_out.sum()
    with pytest.raises(ScenarioError, match="opt-out"):
        simulate_dublin_2016("2016", opt_out=["GBR"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 200_000), min_size=2, max_size=15),
       st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=15, max_size=15))
def test_corrective_mechanism_never_sends_above_100_percent(apps, raw_key):
    x = np.array(apps, dtype=float)
    if x.sum() == 0:
        return
    k = np.array(raw_key[: len(x)])
    k = k / k.sum()
    out, inn, _ = corrective_allocation(x, k)
    ref = k * x.sum()
    after = x - out + inn
    assert out.sum() == inn.sum()
    assert np.all(after[inn > 0] <= ref[inn > 0] + 1e-6)
    assert np.all(x[inn > 0] < ref[inn > 0])
    assert np.all(out[x <= 1.5 * ref] == 0)


def test_pact_replay_pool_and_money():
    r = simulate_pact_2024("2015-2024")
    for year, y in r.groupby("year"):
        assert y.key.sum() == pytest.approx(1.0)
        assert y.fair_share_relocations.sum() == pytest.approx(30_000)
        assert y.relocations_in.sum() == y.relocations_out.sum()
        assert (y[y.benefitting].relocations_in == 0).all()
        assert y.received_eur.sum() == pytest.approx(y.contribution_eur.sum())
    nl = r[r.iso3 == "NLD"]
    assert (~nl.benefitting).all() and (nl.relocations_in > 1000).all()
    half = simulate_pact_2024("2020", relocation_pledge_fraction=0.4)
    assert half.offsets.sum() > 0   # pledges below 50% of the pool: offsets


def test_years_outside_data_and_parsing():
    assert parse_years("2015-2017,2020") == [2015, 2016, 2017, 2020]
    with pytest.raises(ScenarioError):
        parse_years("2017-2015")
    with pytest.raises(DataError, match="outside the data"):
        simulate_dublin_2016("2025")


def test_host_indicators_nl_2023_and_formulas():
    d = host_indicators(2023, "refugees").set_index("iso3")
    assert d.loc["NLD", "per_1000_inhabitants"] == pytest.approx(13.1, abs=0.2)   # OWID/UNHCR: 13
    assert d.loc["LBN", "per_1000_inhabitants"] > d.loc["DEU", "per_1000_inhabitants"] > d.loc["NLD", "per_1000_inhabitants"]
    assert d.loc["NLD", "rank_per_1000_inhabitants"] > d.loc["DEU", "rank_per_1000_inhabitants"]
    from ketenplan.solidarity.indicators import per_usd_gdp_per_capita
    assert float(per_usd_gdp_per_capita(1.9e6, 2676)) == pytest.approx(710, abs=1)
    with pytest.raises(DataError, match="outside"):
        host_indicators(1995)
    with pytest.raises(ScenarioError, match="measure"):
        host_indicators(2020, "idps")


def test_dublin_rates_are_sourced():
    r = dublin_rates("NL")
    assert 0.6 < r.acceptance_rate.value < 0.8
    assert 0.1 < r.transfer_rate.value < r.acceptance_rate.value
    assert r.transfer_given_acceptance.value == pytest.approx(0.3, abs=0.05)
    assert r.transfer_deadline_months.value == 6 and r.transfer_deadline_max_months.value == 18
    for v in r.as_dict().values():
        if isinstance(v, dict):
            assert v["source"]
    assert dublin_rates(years=[2023]).transfer_rate.value == pytest.approx(2450 / 11440)
    with pytest.raises(DataError):
        dublin_rates(years=[2010])
    with pytest.raises(ScenarioError):
        dublin_rates("DE")


@pytest.mark.parametrize("args,stem", [
    (["key"], "key_relocation-2015_2014"),
    (["key", "--scheme", "pact-2024", "--year", "2023"], "key_pact-2024_2023"),
    (["allocate", "--total", "120000", "--rounding", "per-state"], "allocation_relocation-2015_120000_per-state"),
    (["simulate", "--years", "2015-2016"], "simulate_dublin-2016_2015-2016"),
    (["simulate", "--scheme", "pact-2024", "--years", "2024"], "simulate_pact-2024_2024"),
    (["indicators", "--year", "2022", "--top", "3"], "indicators_2022_refugees_and_oip"),
])
def test_cli_writes_csv_and_html(tmp_path, args, stem):
    from ketenplan.cli import app
    res = CliRunner().invoke(app, ["solidarity", *args, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"{stem}.csv").stat().st_size > 100
    html = (tmp_path / f"{stem}.html").read_text(encoding="utf-8")
    assert len(html) > 1_000_000 and "<script src=\"http" not in html   # plotly.js inline


def test_cli_bad_input_exit_code_2(tmp_path):
    from ketenplan.cli import app
    res = CliRunner().invoke(app, ["solidarity", "key", "--scheme", "dublin-2016", "--year", "1990",
                                   "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "--year 1990: outside the population and GDP figures (2010-2023)" in res.output, res.output


def _sol_app():
    import typer

    from ketenplan.solidarity.cli import register
    app = typer.Typer()
    register(app)
    return app


@pytest.mark.parametrize("args,needles", [
    (["key", "--states", "NLD,NLD,DEU"], ["--states", "NLD", "more than once"]),
    (["allocate", "--total", "100", "--states", "NLD,NLD,DEU"], ["--states", "more than once"]),
    (["key", "--exclude", "NLD,XXX"], ["--exclude", "XXX"]),
    (["simulate", "--years", "2016", "--focus", "XXX"], ["--focus", "XXX"]),
    (["key", "--scheme", "pact-2024", "--year", "2023", "--proposal", "may-2015"], ["--proposal", "relocation-2015"]),
    (["simulate", "--scheme", "dublin-2016", "--years", "2016", "--pledge-fraction", "0.5"],
     ["--pledge-fraction", "pact-2024"]),
    (["simulate", "--scheme", "pact-2024", "--years", "2016", "--opt-out", "NLD"], ["--opt-out", "dublin-2016"]),
    (["indicators", "--top", "-3"], ["--top", ">= 1"]),
    (["indicators", "--top", "0"], ["--top", ">= 1"]),
    (["key", "--scheme", "foo"], ["unknown scheme", "relocation-2015, dublin-2016, pact-2024"]),
    (["simulate", "--years", "2010"], ["previous year", "2011-2024"]),
    (["simulate", "--years", "2011"], ["HRV", "--exclude HRV"]),
    (["simulate", "--years", "2020-2015"], ["FIRST-LAST", "FIRST <= LAST"]),
])
def test_cli_options_are_checked(tmp_path, args, needles):
    res = CliRunner().invoke(_sol_app(), ["solidarity", *args, "--out", str(tmp_path)])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    for n in needles:
        assert n in out, (n, out)
    assert "exclude=..." not in out


def test_replay_with_exclude_and_first_replayable_year():
    from ketenplan.solidarity import replayable_years
    assert replayable_years("dublin-2016") == (2011, 2024)
    r = simulate_dublin_2016("2011", exclude=["HRV"])
    assert "HRV" not in set(r.iso3) and r.relocations_out.sum() == r.relocations_in.sum()
    with pytest.raises(ScenarioError, match="nothing to leave out"):
        simulate_pact_2024("2016", exclude=["GBR"])


def test_key_gdp_column_names_its_unit(tmp_path):
    from ketenplan.solidarity import distribution_key
    k15 = distribution_key("relocation-2015")
    k23 = distribution_key("dublin-2016", 2023)
    assert "gdp_eur_million" in k15.columns and "gdp" not in k15.columns
    assert "gdp_usd" in k23.columns and "gdp" not in k23.columns
    assert k15.attrs["gdp_column"] == "gdp_eur_million" and k23.attrs["gdp_unit"].startswith("USD")
    assert 5e5 < k15.loc["NLD", "gdp_eur_million"] < 1e6 and k23.loc["NLD", "gdp_usd"] > 1e11
    res = CliRunner().invoke(_sol_app(), ["solidarity", "key", "--scheme", "pact-2024", "--year", "2023",
                                          "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    header = (tmp_path / "key_pact-2024_2023.csv").read_text().splitlines()[0].split(",")
    assert "gdp_usd" in header and "gdp" not in header
    # the table shows GDP in USD million, whole, never in exponent notation (P0.4)
    assert "USD million" in res.output or ("[USD" in res.output and "million]" in res.output)
    k23 = distribution_key("pact-2024", 2023)
    assert f"{k23.loc['NLD', 'gdp_usd'] / 1e6:,.0f}" in res.output and "e+" not in res.output


def test_duplicate_states_rejected_in_api():
    from ketenplan.solidarity import distribution_key
    with pytest.raises(ScenarioError, match="more than once"):
        distribution_key("pact-2024", 2020, states=["NLD", "NLD", "DEU"])
    with pytest.raises(ScenarioError, match="relocation-2015 only"):
        distribution_key("dublin-2016", 2020, variant="may-2015")
    with pytest.raises(ScenarioError, match="more than once"):
        parse_years("2015,2015")
