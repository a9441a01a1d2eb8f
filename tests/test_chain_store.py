"""The DuckDB results store: runs saved, queried, replaced, and never half-written."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ketenplan.testing import small_scenario as small
from ketenplan.cli import app
from ketenplan.simulation import simulate
from ketenplan.ensemble.store import ResultStore, run_id_of
from ketenplan.errors import DataError

runner = CliRunner(env={"COLUMNS": "200"})


def test_save_query_and_replace(tmp_path):
    store = ResultStore(tmp_path / "runs.duckdb")
    a = simulate(small(name="base"), seed=1, replicates=2)
    b = simulate(small(name="more_ind", **{"decision_capacity.total": [{"start": "2025-01-01", "value": 1300}]}),
                 seed=1, replicates=2)
    ids = [store.save(a), store.save(b)]
    assert ids == [run_id_of(a), run_id_of(b)] and ids[0] != ids[1]
    runs = store.runs()
    assert set(runs.run_id) == set(ids) and set(runs.seed) == {1}
    # the tables come back as they went in
    k = store.kpis([ids[0]]).drop(columns=["scenario", "seed", "run_id"])
    pd.testing.assert_frame_equal(k.sort_values(["replicate", "kpi"]).reset_index(drop=True),
                                  a.kpis.astype({"pillar": str, "kpi": str, "unit": str})
                                  .sort_values(["replicate", "kpi"]).reset_index(drop=True), check_dtype=False)
    stocks = store.table("stocks", [ids[1]])
    assert len(stocks) == len(b.stocks) and stocks.persons.sum() == b.stocks.persons.sum()
    # SQL across runs: more IND capacity, shorter decision times
    q = store.query("SELECT scenario, avg(value) AS v FROM kpis JOIN runs USING (run_id) "
                    "WHERE kpi = 'decision_time_general_weeks' GROUP BY scenario")
    v = q.set_index("scenario").v
    assert v["more_ind"] < v["base"]
    # saving the same run again replaces it instead of doubling it
    store.save(a)
    assert len(store.runs()) == 2
    assert len(store.table("kpis", [ids[0]])) == len(a.kpis)
    # the stored scenario is the run's scenario
    from ketenplan.scenario import load_scenario
    p = tmp_path / "back.toml"
    p.write_text(store.scenario_toml(ids[0]))
    assert load_scenario(p).digest() == a.metadata["scenario_hash"]


def test_failed_save_leaves_the_store_unchanged(tmp_path):
    store = ResultStore(tmp_path / "runs.duckdb")
    a = simulate(small(name="base"), seed=2, replicates=1)
    store.save(a)
    before = store.table("kpis")
    # a run with a table whose KPI values are not numbers cannot be inserted into the numeric column:
    # its stored replicates go in first, then that table fails, and the whole run is rolled back
    bad = dataclasses.replace(a, extras={"kpis": a.kpis.assign(value="not a number")})
    with pytest.raises(DataError, match="not saved, the store is unchanged"):
        store.save(bad)
    pd.testing.assert_frame_equal(store.table("kpis"), before)
    assert len(store.runs()) == 1


def test_bad_store_files_and_names(tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_text("this is not a database")
    with pytest.raises(DataError, match="cannot be opened as a DuckDB database"):
        ResultStore(junk).runs()
    with pytest.raises(DataError, match="is a folder"):
        ResultStore(tmp_path)
    import duckdb

    other = tmp_path / "other.duckdb"  # another program's database with a table named runs
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE runs (x INTEGER)")
    for create in (False, True):
        with pytest.raises(DataError, match=r"not a ketenplan results store \(its 'runs' table lacks the columns"):
            ResultStore(other).check(create=create)
    with pytest.raises(DataError, match="no such store"):
        ResultStore(tmp_path / "new" / "runs.duckdb").runs()
    assert not (tmp_path / "new").exists()  # reading never makes a folder
    store = ResultStore(tmp_path / "runs.duckdb")
    with pytest.raises(DataError, match="no such store"):
        store.runs()  # reading never creates a store
    assert not (tmp_path / "runs.duckdb").exists()
    store.save(simulate(small(name="base"), seed=3, replicates=1))
    with pytest.raises(DataError, match="no table 'stonks'"):
        store.table("stonks")
    with pytest.raises(DataError, match="no run 'x'"):
        store.scenario_toml("x")


def test_cli_run_with_store_then_list_and_kpis(tmp_path):
    sc = tmp_path / "short.toml"
    sc.write_text('base = "nl_baseline"\nname = "short"\n[simulation]\nend = 2025-12-31\nwarmup_years = 0\n'
                  'replicates = 2\n')
    db = tmp_path / "runs.duckdb"
    r = runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o"), "--no-placement", "--store", str(db)])
    assert r.exit_code == 0, r.output
    assert "stored as run short-" in r.output
    r = runner.invoke(app, ["store", "list", str(db)])
    assert r.exit_code == 0 and "short" in r.output
    r = runner.invoke(app, ["store", "kpis", str(db), "--out", str(tmp_path / "k.csv")])
    assert r.exit_code == 0 and "coa_occupancy_peak" in r.output
    from ketenplan.engine.results import KPIS
    from ketenplan.post import POST_PROCESSORS
    # the chain's key figures and those of the post-processors on by default (placement is off here)
    assert len(pd.read_csv(tmp_path / "k.csv")) == len(KPIS) + sum(len(POST_PROCESSORS[n].kpis)
                                                                   for n in ("returns", "integration"))
    r = runner.invoke(app, ["store", "list", str(tmp_path / "none.duckdb")])
    assert r.exit_code == 2 and "no such store" in r.output
    # another DuckDB database is neither read as a store nor changed
    import duckdb
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    for args in (["store", "list", str(other)], ["store", "kpis", str(other)],
                 ["run", str(sc), "--out", str(tmp_path / "o2"), "--store", str(other)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "not a ketenplan results store" in r.output, r.output
    assert not (tmp_path / "o2" / "report.html").exists()  # checked before simulating
    con = duckdb.connect(str(other))
    assert [t[0] for t in con.execute("SHOW TABLES").fetchall()] == ["t"]
    con.close()


def test_a_chunk_stores_categoricals_as_the_strings_of_each_replicate(tmp_path):
    """Categoricals become strings once per chunk: the same strings as replicate by replicate, also when
    the replicates' categories differ or a column is categorical in one replicate only."""
    import pandas as pd

    from ketenplan.ensemble.store import PartitionStore, _plain

    frames = {0: pd.DataFrame({"replicate": [0, 0], "x": pd.Categorical(["a", None], categories=["a", "b"]),
                               "v": [1.0, 2.0]}),
              1: pd.DataFrame({"replicate": [1], "x": pd.Categorical(["c"]), "v": [3.0]}),
              2: pd.DataFrame({"replicate": [2], "x": ["b"], "v": [4.0]})}
    for reps in ((0, 1), (0, 2), (0,)):
        store = PartitionStore(tmp_path / "-".join(map(str, reps)), chunk=10)
        store.open({"what": reps})
        for r in reps:
            store.add(r, {"t": frames[r]})
        store.flush()
        want = pd.concat([_plain(frames[r]) for r in reps], ignore_index=True)
        got = store.read("t")
        assert got["x"].tolist() == want["x"].tolist() and got["v"].tolist() == want["v"].tolist()
        assert got["x"].map(type).eq(str).all()
        store.close()


@pytest.mark.parametrize("chunks", [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((3, 1), (0, 2))])
def test_reads_and_exports_are_in_replicate_order_whatever_order_the_chunks_came_in(tmp_path, chunks):
    """Rows come back by replicate, each replicate's rows in the order it wrote them: without a sort
    when the chunks follow each other, with one when they interleave (a resumed run)."""
    import pyarrow.parquet as pq

    from ketenplan.ensemble.store import PartitionStore

    def frame(r):
        return pd.DataFrame({"replicate": [r] * 3, "date": pd.date_range("2025-01-31", periods=3, freq="ME")[::-1],
                             "k": ["c", "a", "b"], "v": [10.0 * r + i for i in range(3)]})

    store = PartitionStore(tmp_path / "r", chunk=2)
    store.open({"what": "order"})
    for chunk in chunks:
        for r in chunk:
            store.add(r, {"t": frame(r)})
    store.flush()
    want = pd.concat([frame(r) for r in range(4)], ignore_index=True)
    interleaved = any(max(a) > min(b) for a, b in zip(chunks, chunks[1:]))
    assert store.in_replicate_order("t") is not interleaved
    pd.testing.assert_frame_equal(store.read("t"), want)
    got = pq.read_table(store.export("t", tmp_path / "t.parquet")).to_pandas()
    pd.testing.assert_frame_equal(got.sort_values("replicate", kind="stable", ignore_index=True), want)
    assert got.replicate.is_monotonic_increasing
    if not interleaved:  # no sort: each replicate's rows exactly as written
        pd.testing.assert_frame_equal(got, want)
    store.close()


def test_columns_read_as_categoricals_equal_those_made_by_astype(tmp_path):
    """``read(name, categorical=...)`` gives exactly ``astype("category")`` of the plain read (sorted
    categories, missing values kept), across chunks whose values differ."""
    from ketenplan.ensemble.store import PartitionStore

    store = PartitionStore(tmp_path / "r", chunk=2)
    store.open({"what": "categories"})
    values = {0: ["b", "a", None], 1: ["c", "b", "b"], 2: ["z", "a", "a"], 3: [None, None, None]}
    for r, v in values.items():
        store.add(r, {"t": pd.DataFrame({"replicate": [r] * 3, "k": v, "n": [1, 2, 3]})})
    store.flush()
    plain = store.read("t")
    got = store.read("t", categorical=("k", "n", "missing"))
    want = plain.assign(k=plain.k.astype("category"), n=plain.n.astype("category"))  # any type: as astype
    pd.testing.assert_frame_equal(got, want)
    assert list(got.k.cat.categories) == ["a", "b", "c", "z"]
    store.close()


def test_a_chunk_of_columns_is_the_chunk_of_the_frames(tmp_path):
    """Replicates handed over as NumPy columns (``plain_tables``) give the same stored tables as the
    frames themselves, also when a column's type differs between replicates (then pandas' common
    type), a frame has an extension type, no columns or no rows."""
    import numpy as np
    import pyarrow.parquet as pq

    from ketenplan.ensemble.store import Columns, PartitionStore, plain_tables

    def tables(r):
        t = {"a": pd.DataFrame({"replicate": np.int32(r), "date": pd.date_range("2025-01-31", periods=3, freq="ME"),
                                "k": ["x", None, "z"], "v": [1.5, np.nan, 2.0], "n": [1, 2, 3], "b": [True, False, r > 1]}),
             "mixed": pd.DataFrame({"replicate": [r], "n": [1.5] if r == 2 else [r]}),  # int, then float
             "ext": pd.DataFrame({"replicate": [r], "i": pd.array([r], dtype="Int64")}),
             "cat": pd.DataFrame({"replicate": [r, r], "c": pd.Categorical(["u", None])}),
             "empty": pd.DataFrame()}
        if r == 1:
            t["a"] = t["a"].iloc[:0]
        return t

    got = {}
    for how in ("frames", "columns"):
        store = PartitionStore(tmp_path / how, chunk=10)
        store.open({"what": how})
        for r in range(4):
            t = tables(r)
            if how == "columns":
                t = plain_tables(t)
                assert isinstance(t["a"], Columns) and isinstance(t["ext"], pd.DataFrame)
            store.add(r, t, plain=how == "columns")
        store.flush()
        got[how] = {n: store.read(n) for n in store.tables()}
        (chunk,) = store.chunks()
        got[how]["schema"] = {n: pq.read_schema(chunk / f"{n}.parquet") for n in store.tables()}
        # a NaN is stored as a missing value, as pyarrow takes it from a frame (DuckDB's aggregates skip it)
        got[how]["nulls"] = {n: [c.null_count for c in pq.read_table(chunk / f"{n}.parquet").columns]
                             for n in store.tables()}
        store.close()
    assert set(got["frames"]) == set(got["columns"]) and "empty" not in got["frames"]["schema"]
    # plain columns are written from Arrow arrays, not from a frame: the same types and values, without
    # the pandas metadata (which only rebuilds a RangeIndex); frames keep theirs
    assert b"pandas" not in (got["columns"]["schema"]["a"].metadata or {})
    assert b"pandas" in got["columns"]["schema"]["ext"].metadata

    def plain(schema):
        meta = {k: v for k, v in (schema.metadata or {}).items() if k != b"pandas"}
        return schema.with_metadata(meta)

    for n, df in got["frames"].items():
        if n == "schema":
            assert all(plain(df[k]).equals(plain(got["columns"]["schema"][k]), check_metadata=True) for k in df)
        elif n == "nulls":
            assert df == got["columns"]["nulls"] and df["a"][3] == 3  # v: a NaN in each of replicates 0, 2, 3
        else:
            pd.testing.assert_frame_equal(got["columns"][n], df)
    assert got["columns"]["mixed"].n.tolist() == [0.0, 1.0, 1.5, 3.0]
    assert got["columns"]["cat"].c.tolist() == ["u", "nan"] * 4  # categoricals as the strings _plain makes



def test_an_export_of_interleaved_chunks_keeps_each_replicate_s_rows_in_order_every_time(tmp_path):
    """Replicates that finish out of order make chunks that interleave, so the export sorts by
    replicate. At this size (1.5 million rows) DuckDB sorts in parallel and its sort is not stable: a
    sort by replicate alone gave each export another order of a replicate's rows. Every export
    must give the rows in replicate order, each replicate's in the order it wrote them."""
    import pyarrow.parquet as pq

    from ketenplan.ensemble.store import PartitionStore

    n, reps, chunk = 3000, 500, 50
    order = list(range(reps))
    for a in range(chunk - 1, reps - 1, chunk):  # each chunk's last replicate finishes after the next one's first
        order[a], order[a + 1] = order[a + 1], order[a]
    store = PartitionStore(tmp_path / "r", chunk=chunk)
    store.open({"what": "interleaved"})
    rng = np.random.default_rng(3)
    frames = {}
    for r in order:
        frames[r] = pd.DataFrame({"replicate": np.full(n, r, np.int32), "v": rng.integers(0, 1000, n)})
        store.add(r, {"t": frames[r]})
    store.flush()
    assert not store.in_replicate_order("t")
    want = np.concatenate([frames[r]["v"].to_numpy() for r in range(reps)])
    for k in range(3):
        got = pq.read_table(store.export("t", tmp_path / f"t{k}.parquet")).to_pandas()
        assert got.replicate.is_monotonic_increasing
        np.testing.assert_array_equal(got["v"].to_numpy(), want)
    store.close()


def test_announced_replicates_are_written_in_chunks_that_follow_each_other_however_they_finish(tmp_path):
    """With the replicates announced (``expect``), a chunk holds only replicates below the first one
    still running: the chunks of replicates that finish out of order follow each other, so reads and
    exports need no sort; every replicate is stored once, and what is buffered at the end is written by
    ``flush``. A replicate far behind does not hold back more than four chunks' worth."""
    import json

    from ketenplan.ensemble.store import PartitionStore

    rng = np.random.default_rng(5)
    order = list(range(40))
    for a in range(0, 38, 3):  # neighbours swapped: each finishes a little out of order
        order[a], order[a + 2] = order[a + 2], order[a]
    order.remove(7)
    order.append(7)  # one replicate finishes last of all
    store = PartitionStore(tmp_path / "r", chunk=4)
    store.open({"what": "announced"})
    store.expect(range(40))
    frames = {}
    for r in order:
        frames[r] = pd.DataFrame({"replicate": np.full(3, r, np.int32), "v": rng.integers(0, 99, 3)})
        store.add(r, {"t": frames[r]})
        assert len(store._buffer) <= 4 * 4  # bounded while replicate 7 runs
    store.flush()
    reps = [json.loads((c / "replicates.json").read_text()) for c in store.chunks()]
    assert sorted(r for c in reps for r in c) == list(range(40))
    behind = [c for c in reps if 7 in c]
    assert len(behind) == 1  # written once, once it came
    assert store.done() == set(range(40))
    ordered = [c for c in reps if max(c) < 7] + [c for c in reps if min(c) > 7 and 7 not in c]
    assert all(max(a) < min(b) for a, b in zip(ordered, ordered[1:]))
    want = pd.concat([frames[r] for r in range(40)], ignore_index=True)
    pd.testing.assert_frame_equal(store.read("t"), want)
    store.close()

    # in the usual case (no replicate far behind) the whole ensemble needs no sort
    store = PartitionStore(tmp_path / "s", chunk=4)
    store.open({"what": "announced, near"})
    store.expect(range(40))
    for r in order[:-1] + [7]:
        if r == 7:
            continue
        store.add(r, {"t": frames[r]})
        if r == 9:
            store.add(7, {"t": frames[7]})
    store.flush()
    assert store.in_replicate_order("t")
    pd.testing.assert_frame_equal(store.read("t"), want)
    store.close()


def test_the_export_beside_the_report_writes_what_one_after_the_other_writes(tmp_path):
    """``report.write_outputs`` (the export in a second thread while the report is built) gives the
    same Parquet tables and metadata as ``Results.to_parquet`` alone, and the report."""
    import json

    from ketenplan.report import write_outputs

    res = simulate(small(name="side_by_side"), seed=3, replicates=3, out=tmp_path / "replicates")
    written = write_outputs(res, tmp_path / "both")
    alone = res.to_parquet(tmp_path / "alone")
    assert (tmp_path / "both" / "report.html").stat().st_size > 0
    assert sorted(p.name for p in written) == sorted([p.name for p in alone] + ["report.html"])
    for p in alone:
        if p.suffix == ".parquet":
            pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "both" / p.name), pd.read_parquet(p))
    meta = [json.loads((tmp_path / d / "metadata.json").read_text()) for d in ("both", "alone")]
    assert meta[0] == meta[1]
