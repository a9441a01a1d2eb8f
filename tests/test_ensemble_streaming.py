"""Ensembles that stream: replicates stored as they finish, resumable after a kill, readable at
every moment, identical on every backend (a real Dask LocalCluster reached by its address)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from ketenplan.ensemble.store import PartitionStore
from ketenplan.simulation import simulate
from ketenplan.testing import small_scenario

SHORT = {"simulation.end": dt.date(2025, 6, 30)}


def _kpis(res) -> pd.DataFrame:
    return res.kpis.sort_values(["replicate", "kpi"]).reset_index(drop=True)


def test_results_read_back_from_the_stored_replicates(tmp_path):
    res = simulate(small_scenario(**SHORT), seed=4, replicates=5, backend="serial", out=tmp_path / "r", chunk=2)
    store = PartitionStore(tmp_path / "r")
    assert store.done() == {0, 1, 2, 3, 4} and len(store.chunks()) == 3  # 2 + 2 + 1
    assert sorted(res.kpis.replicate.unique()) == [0, 1, 2, 3, 4]
    # quantiles come from the stored replicates (SQL), and agree with pandas on the same rows
    s = res.kpi_summary().set_index("kpi")
    v = res.kpis[res.kpis.kpi == "coa_occupancy_peak"].value
    assert s.loc["coa_occupancy_peak", "p90"] == pytest.approx(v.quantile(0.9))
    q = res.quantiles("derived", "coa_occupancy")
    w = res.stock("derived", "coa_occupancy")
    np.testing.assert_allclose(q[0.5].to_numpy(), w.median(axis=1).to_numpy())


def test_a_second_run_on_the_same_folder_resumes_and_another_scenario_starts_afresh(tmp_path):
    sc = small_scenario(**SHORT)
    first = simulate(sc, seed=4, replicates=3, backend="serial", out=tmp_path / "r", chunk=1)
    again = simulate(sc, seed=4, replicates=3, backend="serial", out=tmp_path / "r", chunk=1)
    assert again.metadata["resumed_replicates"] == 3  # nothing run twice
    pd.testing.assert_frame_equal(_kpis(first), _kpis(again))
    other = simulate(sc.replace(**{"dublin.share": 0.3}), seed=4, replicates=2, backend="serial",
                     out=tmp_path / "r", chunk=1)
    assert other.metadata["resumed_replicates"] == 0 and PartitionStore(tmp_path / "r").done() == {0, 1}


SCRIPT = textwrap.dedent("""
    import datetime as dt, sys
    from ketenplan.simulation import simulate
    from ketenplan.testing import small_scenario
    sc = small_scenario(**{"simulation.end": dt.date(2025, 6, 30)})
    simulate(sc, seed=9, replicates=int(sys.argv[2]), backend="serial", out=sys.argv[1], chunk=2)
""")


def test_killed_part_way_and_started_again_completes_without_repeating_or_losing(tmp_path):
    folder = tmp_path / "r"
    n = 40
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(folder), str(n)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    store = PartitionStore(folder)
    seen_while_running = 0
    deadline = time.time() + 240
    try:
        while time.time() < deadline and len(store.done()) < 6:
            time.sleep(0.05)
            if store.chunks():  # readable at every moment: the chunks written so far can be queried
                k = store.query("SELECT count(DISTINCT replicate) AS n FROM kpis").n.iloc[0]
                store.close()
                seen_while_running = max(seen_while_running, int(k))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_at_kill = store.done()
    assert 0 < len(done_at_kill) < n, "the run must be killed part-way"
    assert seen_while_running > 0
    # every chunk in place is complete (a chunk being written when the kill came stays hidden)
    for c in store.chunks():
        assert (c / "replicates.json").exists() and (c / "kpis.parquet").exists() and (c / "stocks.parquet").exists()
    # started again: only the missing replicates run, and the result equals an uninterrupted run
    resumed = simulate(small_scenario(**SHORT), seed=9, replicates=n, backend="serial", out=folder, chunk=2)
    assert resumed.metadata["resumed_replicates"] == len(done_at_kill)
    k = resumed.kpis
    assert sorted(k.replicate.unique()) == list(range(n))
    assert k.groupby("replicate").size().nunique() == 1  # each replicate once
    clean = simulate(small_scenario(**SHORT), seed=9, replicates=n, backend="serial", out=tmp_path / "clean")
    pd.testing.assert_frame_equal(_kpis(resumed), _kpis(clean))


@pytest.mark.slow
def test_the_same_ensemble_on_an_existing_dask_cluster_by_its_address(tmp_path):
    from dask.distributed import LocalCluster

    sc = small_scenario(**SHORT)
    ref = simulate(sc, seed=6, replicates=4, backend="serial")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = simulate(sc, seed=6, replicates=4, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(_kpis(ref), _kpis(remote))
    assert ref.stocks.sort_values(["replicate", "date", "dimension", "category"]).persons.to_numpy().tolist() == \
        remote.stocks.sort_values(["replicate", "date", "dimension", "category"]).persons.to_numpy().tolist()


def test_an_unreachable_scheduler_is_a_clear_error():
    from ketenplan.errors import ScenarioError

    with pytest.raises(ScenarioError, match="--scheduler: cannot reach a Dask scheduler"):
        simulate(small_scenario(**SHORT), seed=1, replicates=2, scheduler="tcp://127.0.0.1:9")


def test_reading_a_stock_or_table_that_a_run_does_not_keep_names_the_argument(tmp_path):
    from ketenplan.engine.results import STOCK_LABELS
    from ketenplan.errors import DataError

    res = simulate(small_scenario(**SHORT), seed=4, replicates=2, backend="serial", out=tmp_path / "r")
    # every stock the registry declares is stored, under the labels Results checks against
    stored = res.source.query("SELECT DISTINCT dimension, category FROM stocks")
    assert set(map(tuple, stored.to_numpy())) == {(d, n) for d, names in STOCK_LABELS.items() for n in names}
    with pytest.raises(DataError, match=r"category: no derived stock 'coa_ocupancy' \(did you mean 'coa_occupancy'"):
        res.quantiles("derived", "coa_ocupancy")
    with pytest.raises(DataError, match=r"dimension: expected one of stage, location, derived, found 'stages'"):
        res.stock("stages", "waiting_registration")
    with pytest.raises(DataError, match=r"column: expected one of persons, persons_mean, persons_max"):
        res.quantiles("derived", "coa_occupancy", column="persons; DROP TABLE stocks")
    with pytest.raises(DataError, match=r"q: expected quantile levels between 0 and 1"):
        res.quantiles("derived", "coa_occupancy", q=(0.5, 90))
    with pytest.raises(DataError, match=r"table: no stored table 'flow' \(did you mean 'flows'"):
        res.band_quantiles("flow", "date", "persons")
    with pytest.raises(DataError, match=r"y: table 'flows' has no column 'person' \(did you mean 'persons'"):
        res.band_quantiles("flows", "date", "person")
    with pytest.raises(DataError, match=r"where: the condition .* cannot be applied to table 'flows'"):
        res.band_quantiles("flows", "date", "persons", where="flw = 'arrivals'")
    # the right names still give the numbers
    q = res.band_quantiles("flows", "date", "persons", where="flow = 'arrivals'")
    w = res.flows[res.flows.flow == "arrivals"].groupby("date").persons.quantile(0.5)
    np.testing.assert_allclose(q[0.5].to_numpy(), w.to_numpy())
