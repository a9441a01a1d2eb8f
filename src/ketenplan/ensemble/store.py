"""A results store in an embedded DuckDB database: many runs in one file, queried with SQL.

Every run is a row of ``runs`` (``run_id``, scenario name and hash, seed, replicates, package
version, creation time, the full scenario as TOML, the metadata as JSON); its tables (``kpis``,
``stocks``, ``flows``, ``housing``, ``journeys`` and post-processed tables such as
``placement_by_period``) carry a ``run_id`` column. A run is written in one transaction: a failure
leaves the store as it was. Saving the same scenario, seed and replicates again replaces the run
(the numbers are the same by construction; the package version may differ).

    store = ResultStore("out/runs.duckdb")
    run_id = store.save(results)
    store.runs()                                        # one row per run
    store.kpis()                                        # every run's KPIs, with scenario and seed
    store.query("SELECT scenario, kpi, avg(value) FROM kpis JOIN runs USING (run_id) GROUP BY ALL")
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from ketenplan.engine.results import Results
from ketenplan.errors import DataError

log = logging.getLogger(__name__)

TABLES = ("kpis", "stocks", "flows", "housing", "journeys")

_RUNS = """CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, scenario VARCHAR, scenario_hash VARCHAR, seed BIGINT, replicates INTEGER,
    version VARCHAR, created VARCHAR, backend VARCHAR, start_date DATE, end_date DATE,
    scenario_toml VARCHAR, metadata VARCHAR)"""


def run_id_of(results: Results) -> str:
    """``<scenario>-<hash[:10]>-s<seed>-r<replicates>``: the same inputs give the same id."""
    m = results.metadata
    return f"{m['scenario']}-{m['scenario_hash'][:10]}-s{m['seed']}-r{m['replicates']}"


class ResultStore:
    """Runs and their tables in one DuckDB file (created on first use)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise DataError(f"{self.path}: is a folder; expected a DuckDB database file (e.g. runs.duckdb)")
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _connect(self, create: bool = False):
        """Open the store; only ``create`` (saving) may make a new store in a new or empty file."""
        import duckdb

        if not create and not self.path.exists():
            raise DataError(f"{self.path}: no such store; save runs with `ketenplan run ... --store {self.path}`")
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise DataError(f"{self.path}: cannot be opened as a DuckDB database ({exc}); "
                            "give a new file name or an existing ketenplan store") from None
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "runs" not in tables:
            if not create or tables:
                con.close()
                raise DataError(f"{self.path}: not a ketenplan results store (no 'runs' table"
                                + (f"; it holds {sorted(tables)}" if tables else "") + "); give another file")
            con.execute(_RUNS)
        return con

    def check(self, create: bool = False) -> None:
        """Raise a DataError now if the store cannot be used (before a long simulation)."""
        self._connect(create=create).close()

    # ------------------------------------------------------------------------------------------
    def save(self, results: Results, run_id: str | None = None) -> str:
        """Write a run and its tables in one transaction; returns the run id."""
        from ketenplan.scenario import scenario_toml

        run_id = run_id or run_id_of(results)
        m = results.metadata
        tables = {name: getattr(results, name) for name in TABLES}
        tables.update({k: v for k, v in results.extras.items() if isinstance(v, pd.DataFrame)})
        con = self._connect(create=True)
        try:
            con.execute("BEGIN TRANSACTION")
            existing = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
            for name in existing - {"runs"}:
                con.execute(f'DELETE FROM "{name}" WHERE run_id = ?', [run_id])
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                run_id, m["scenario"], m["scenario_hash"], int(m["seed"]), int(m["replicates"]), m["version"],
                m["created"], m["backend"], m["start"], m["end"], scenario_toml(results.scenario),
                json.dumps(m, default=str)])
            for name, df in tables.items():
                frame = _plain(df).assign(run_id=run_id)
                con.register("_frame", frame)
                if name in existing:
                    con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _frame')
                else:
                    con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
                    existing.add(name)
                con.unregister("_frame")
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise DataError(f"{self.path}: run {run_id} not saved, the store is unchanged ({exc})") from exc
        finally:
            con.close()
        log.info("saved run %s to %s", run_id, self.path)
        return run_id

    # ------------------------------------------------------------------------------------------
    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any SQL over the store's tables, as a DataFrame."""
        import duckdb

        con = self._connect()
        try:
            return con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise DataError(f"{self.path}: query failed ({exc})") from None
        finally:
            con.close()

    def runs(self) -> pd.DataFrame:
        """One row per run (without the stored TOML and metadata)."""
        return self.query("SELECT run_id, scenario, scenario_hash, seed, replicates, version, created, backend, "
                          "start_date, end_date FROM runs ORDER BY created, run_id")

    def table(self, name: str, run_ids: list[str] | None = None) -> pd.DataFrame:
        """One table for the given runs (all when None), with the run's scenario and seed."""
        known = set(self.query("SELECT table_name FROM information_schema.tables").table_name)
        if name not in known - {"runs"}:
            raise DataError(f"{self.path}: no table {name!r}; the store has {sorted(known - {'runs'})}")
        sql = (f'SELECT r.scenario, r.seed, t.* FROM "{name}" t JOIN runs r USING (run_id)'
               + (" WHERE run_id IN (SELECT unnest(?))" if run_ids else ""))
        return self.query(sql, [run_ids] if run_ids else None)

    def kpis(self, run_ids: list[str] | None = None) -> pd.DataFrame:
        return self.table("kpis", run_ids)

    def scenario_toml(self, run_id: str) -> str:
        """The stored scenario of a run, as TOML (load it with ``load_scenario``)."""
        df = self.query("SELECT scenario_toml FROM runs WHERE run_id = ?", [run_id])
        if df.empty:
            raise DataError(f"{self.path}: no run {run_id!r}; runs: {', '.join(self.runs().run_id)}")
        return str(df.scenario_toml.iloc[0])


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as plain strings so that DuckDB stores stable types across runs."""
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(str)
    return out
