"""Where results go: the replicates of a run as they finish (:class:`PartitionStore`, Parquet
partitions in a folder, resumable), and many runs in one DuckDB file (:class:`ResultStore`).

A results store in an embedded DuckDB database: many runs in one file, queried with SQL.

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
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ketenplan.errors import DataError

log = logging.getLogger(__name__)

TABLES = ("kpis", "stocks", "flows", "housing", "capacity", "journeys")

_RUNS = """CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, scenario VARCHAR, scenario_hash VARCHAR, seed BIGINT, replicates INTEGER,
    version VARCHAR, created VARCHAR, backend VARCHAR, start_date DATE, end_date DATE,
    scenario_toml VARCHAR, metadata VARCHAR)"""


_RUN_COLUMNS = {"run_id", "scenario", "scenario_hash", "seed", "replicates", "metadata"}


def run_id_of(results) -> str:
    """``<scenario>-<hash[:10]>-s<seed>-r<replicates>``: the same inputs give the same id."""
    m = results.metadata
    return f"{m['scenario']}-{m['scenario_hash'][:10]}-s{m['seed']}-r{m['replicates']}"


class ResultStore:
    """Runs and their tables in one DuckDB file (created on first use)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise DataError(f"{self.path}: is a folder; expected a DuckDB database file (e.g. runs.duckdb)")

    def _connect(self, create: bool = False):
        """Open the store; only ``create`` (saving) may make a new store in a new or empty file."""
        import duckdb

        if not create and not self.path.exists():
            raise DataError(f"{self.path}: no such store; save runs with `ketenplan run ... --store {self.path}`")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.path))
            con.execute("SET enable_progress_bar = false")
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
        else:
            have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'runs'").fetchall()}
            missing = sorted(_RUN_COLUMNS - have)
            if missing:
                con.close()
                raise DataError(f"{self.path}: not a ketenplan results store (its 'runs' table lacks the columns "
                                f"{missing}); give another file")
        return con

    def check(self, create: bool = False) -> None:
        """Raise a DataError now if the store cannot be used (before a long simulation)."""
        self._connect(create=create).close()

    # ------------------------------------------------------------------------------------------
    def save(self, results, run_id: str | None = None) -> str:
        """Write a run and its tables in one transaction; returns the run id."""
        from ketenplan.scenario import scenario_toml

        run_id = run_id or run_id_of(results)
        m = results.metadata
        stored = results.source.tables()  # per-replicate tables: copied by DuckDB from the partitions
        tables = {k: v for k, v in results.extras.items() if isinstance(v, pd.DataFrame)}
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
            for name in stored:
                src = results.source.parquet_source(name)
                sel = f"SELECT *, ? AS run_id FROM {src}"
                if name in existing:
                    con.execute(f'INSERT INTO "{name}" BY NAME {sel}', [run_id])
                else:
                    con.execute(f'CREATE TABLE "{name}" AS {sel}', [run_id])
                    existing.add(name)
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
    """Categoricals as plain strings so that DuckDB stores stable types across runs (a new frame when
    there are any; the frame itself otherwise: callers never change it)."""
    cats = [k for k, (c, t) in enumerate(df.dtypes.items()) if isinstance(t, pd.CategoricalDtype)]
    if not cats:
        return df
    out = df.copy(deep=False)
    for k in cats:
        out.isetitem(k, df.iloc[:, k].astype(str))
    return out


class Columns(NamedTuple):
    """A frame as its NumPy columns (names and arrays, the index dropped): what a worker sends for a
    table instead of the DataFrame. It pickles and unpickles without rebuilding pandas objects (0.5
    against 1.7 ms a replicate of ``nl_baseline`` in the parent), and a chunk concatenates it per
    column (:meth:`PartitionStore.flush`)."""

    names: tuple[str, ...]
    arrays: tuple[np.ndarray, ...]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(dict(zip(self.names, self.arrays)), columns=list(self.names), copy=False)


def plain_tables(tables: dict[str, pd.DataFrame | Columns | dict]) -> dict[str, pd.DataFrame | Columns]:
    """Every frame without categoricals (:func:`_plain`), as :class:`Columns` where all its columns
    have NumPy types and unique string names (else the frame itself): what a worker hands to
    ``PartitionStore.add(..., plain=True)``. A table given as :class:`Columns`, or as a dict of
    NumPy arrays of equal length (column name -> array), is taken as it is."""
    out: dict[str, pd.DataFrame | Columns] = {}
    for name, df in tables.items():
        if isinstance(df, Columns):
            out[name] = df
            continue
        if isinstance(df, dict):
            out[name] = Columns(tuple(df), tuple(np.asarray(a) for a in df.values()))
            continue
        types = df.dtypes.tolist()
        if any(isinstance(t, pd.CategoricalDtype) for t in types):
            df = _plain(df)
            types = df.dtypes.tolist()
        names = list(df.columns)
        if (df.columns.is_unique and all(isinstance(c, str) for c in names)
                and all(isinstance(t, np.dtype) for t in types)):
            out[name] = Columns(tuple(names), tuple(df[c].to_numpy() for c in names))
        else:
            out[name] = df
    return out


def _concat_columns(items: list):
    """The Arrow table of ``pd.concat(frames, ignore_index=True)`` for :class:`Columns` with the same
    names and types, built column by column without a pandas frame, its rows in replicate order (a
    stable sort when a ``replicate`` column is not ordered); None when they differ (pandas then finds
    the common types). NaN becomes a missing value as ``pa.Table.from_pandas`` makes it, so the file
    holds the same values as one written from the frame (without the frame's pandas metadata, which
    only rebuilds its RangeIndex): 0.3 against 0.45 s a chunk of 50 replicates of nl_baseline, in
    the parent, which shares the cores with the workers."""
    import pyarrow as pa

    first = items[0]
    if not all(isinstance(x, Columns) and x.names == first.names for x in items):
        return None
    types = tuple(a.dtype for a in first.arrays)
    if not all(tuple(a.dtype for a in x.arrays) == types for x in items):
        return None
    if any(t.kind not in "biufO" and t != np.dtype("datetime64[ns]") for t in types):
        return None  # other times, fixed-width or new-style strings: as pandas converts them
    arrays = [np.concatenate([x.arrays[k] for x in items]) for k in range(len(first.names))]
    if "replicate" in first.names:
        rep = arrays[first.names.index("replicate")]
        if rep.size > 1 and not (rep[1:] >= rep[:-1]).all():
            order = np.argsort(rep, kind="stable")
            arrays = [a[order] for a in arrays]
    return pa.Table.from_arrays([pa.array(a, from_pandas=True) for a in arrays], names=list(first.names))


def _write_table(df, path: Path) -> None:
    """``df`` (a frame, or an Arrow table from :func:`_concat_columns`) as one Parquet file, as
    ``DataFrame.to_parquet(index=False)`` writes it (pyarrow, snappy), converted in the calling
    thread (pyarrow would start a thread pool for a long frame). Dictionary encoding only where
    values repeat by construction (:func:`_dictionary_columns`): pyarrow's default hashes every
    value of every column, 40% of writing a chunk of stocks, for measures whose values hardly
    repeat; the same values read back."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False, nthreads=1)
    pq.write_table(table, path, use_dictionary=_dictionary_columns(table.schema))


def _dictionary_columns(schema) -> list[str]:
    """Labels, dates and the replicate number: the columns whose values repeat in a stored table."""
    import pyarrow as pa

    t = pa.types
    return [f.name for f in schema if f.name == "replicate" or t.is_string(f.type) or t.is_large_string(f.type)
            or t.is_timestamp(f.type) or t.is_date(f.type) or t.is_dictionary(f.type) or t.is_boolean(f.type)]


def _mixed_categories(frames: list[pd.DataFrame]) -> bool:
    """True when a categorical column does not have the same categories in every frame: concatenated
    as they are, it would not stay categorical and its values would not all become the strings
    :func:`_plain` makes of them (a missing value: 'nan')."""
    seen: dict = {}
    if len({tuple(f.columns) for f in frames}) > 1:  # columns missing somewhere: frame by frame
        return True
    for f in frames:
        for c, t in f.dtypes.items():
            first = seen.setdefault(c, t)
            if (isinstance(t, pd.CategoricalDtype) or isinstance(first, pd.CategoricalDtype)) and t != first:
                return True
    return False


# ----------------------------------------------------------------------------------------------
# the replicates of one run, stored as they finish
# ----------------------------------------------------------------------------------------------
#: DuckDB connections a forked worker inherited from its parent: kept alive, never closed in the worker
_INHERITED: list = []


class PartitionStore:
    """The kept tables of a run's replicates in a folder of Parquet partitions, written as they
    finish and readable at every moment.

    Replicates are buffered and flushed in chunks: each chunk is written into a hidden folder and
    renamed into place in one step (``chunk-<first>-<last>``), so a chunk is either complete or
    absent. A ``manifest.json`` names what the replicates are of (scenario hash, seed, number of
    replicates, what is kept, the package version); a run started again on the same folder with
    the same manifest skips the replicates already stored (:meth:`done`), so an ensemble killed
    part-way completes without repeating or losing a replicate. With another manifest the folder's
    partitions are removed first.
    """

    MANIFEST = "manifest.json"

    def __init__(self, folder: str | Path, chunk: int = 25):
        self.folder = Path(folder)
        self.chunk = max(1, int(chunk))
        self._buffer: dict[int, dict[str, pd.DataFrame]] = {}
        self._unchecked: set[int] = set()  # buffered replicates whose frames may hold categoricals
        self._coming: set[int] = set()  # replicates announced (expect) and not added yet
        self._order: list[int] = []  # the announced replicates in order; _front: the first still to come
        self._front = 0
        self._con = None
        self._pid = os.getpid()  # a forked worker inherits the store but must not close its connection

    # ---- writing ----
    def open(self, manifest: dict) -> set[int]:
        """Prepare the folder for ``manifest``; returns the replicates already stored."""
        import shutil

        from ketenplan._io import ensure_folder, write_text

        ensure_folder(self.folder, "replicate store")
        path = self.folder / self.MANIFEST
        want = json.loads(json.dumps(manifest, sort_keys=True, default=str))
        if path.exists():
            try:
                have = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                have = None
            if have == want:
                done = self.done()
                if done:
                    log.info("resuming: %d of %d replicates already stored in %s", len(done),
                             manifest.get("replicates", 0), self.folder)
                return done
        for p in list(self.folder.iterdir()):  # another run's partitions: start afresh
            if p.is_dir() and (p.name.startswith("chunk-") or p.name.startswith(".chunk-")):
                shutil.rmtree(p, ignore_errors=True)
        write_text(path, json.dumps(want, indent=1, sort_keys=True))
        return set()

    def expect(self, replicates) -> None:
        """Announce the replicates still to come. Chunks are then written in their order: a chunk
        holds only replicates below the first one still running, so the chunks of an ensemble follow
        each other and :meth:`export` and :meth:`read` need no sort, however the workers finish.
        Without an announcement every full buffer is written as it is."""
        self._coming = {int(r) for r in replicates} - set(self._buffer)
        self._order = sorted(self._coming)
        self._front = 0

    def add(self, replicate: int, tables: dict[str, pd.DataFrame | Columns], *, plain: bool = False) -> None:
        """Buffer one replicate's tables, frames or :class:`Columns` (written with the chunk).
        ``plain``: they hold no categorical column (e.g. made so by :func:`plain_tables` in the
        worker), so the chunk need not look at every frame's column types (0.1 ms a frame)."""
        r = int(replicate)
        self._buffer[r] = tables
        self._coming.discard(r)
        if not plain:
            self._unchecked.add(r)
        if len(self._buffer) < self.chunk:
            return
        while self._front < len(self._order) and self._order[self._front] not in self._coming:
            self._front += 1
        if self._front == len(self._order) or len(self._buffer) >= 4 * self.chunk:
            self.flush()  # nothing announced still runs (or a replicate is far behind): all of it
            return
        first = self._order[self._front]
        ready = [k for k in self._buffer if k < first]
        if len(ready) >= self.chunk:
            self.flush(ready)

    def flush(self, replicates=None) -> None:
        """Write the buffered replicates (or those of them in ``replicates``) as one chunk (atomically).

        Each table of the chunk is one concatenation of the replicates' frames (in replicate order),
        turned into Arrow once and written by pyarrow without a thread pool (the workers have the
        cores): the chunk's rows are ordered by replicate, which :meth:`export` and :meth:`read` rely
        on to skip a sort."""
        if not self._buffer:
            return
        import tempfile

        reps = sorted(self._buffer if replicates is None else set(replicates) & set(self._buffer))
        if not reps:
            return
        names = sorted({n for r in reps for n in self._buffer[r]})
        tmp = Path(tempfile.mkdtemp(prefix=".chunk-", dir=self.folder))
        try:
            for name in names:
                have = [r for r in reps if name in self._buffer[r]]
                items = [self._buffer[r][name] for r in have]
                items = [x for x in items if len(x.names if isinstance(x, Columns) else x.columns)]
                if not items:
                    continue
                df = _concat_columns(items)  # plain NumPy columns: an Arrow table in replicate order
                if df is None:  # categoricals become strings once per chunk, not once per replicate
                    frames = [x.frame() if isinstance(x, Columns) else x for x in items]
                    if not self._unchecked.isdisjoint(have) and _mixed_categories(frames):
                        frames = [_plain(f) for f in frames]
                    df = _plain(pd.concat(frames, ignore_index=True))
                    if "replicate" in df and not df["replicate"].is_monotonic_increasing:
                        df = df.sort_values("replicate", kind="stable", ignore_index=True)
                _write_table(df, tmp / f"{name}.parquet")
            (tmp / "replicates.json").write_text(json.dumps(reps), encoding="utf-8")
            os.replace(tmp, self.folder / f"chunk-{reps[0]:07d}-{reps[-1]:07d}-{tmp.name[7:]}")
        except BaseException:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for r in reps:
            del self._buffer[r]
            self._unchecked.discard(r)
        self._reset()

    # ---- reading ----
    def chunks(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("chunk-*") if p.is_dir()) if self.folder.exists() else []

    def done(self) -> set[int]:
        out: set[int] = set()
        for c in self.chunks():
            try:
                out.update(json.loads((c / "replicates.json").read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return out

    def tables(self) -> list[str]:
        names: set[str] = set()
        for c in self.chunks():
            names.update(p.stem for p in c.glob("*.parquet"))
        order = {n: i for i, n in enumerate(TABLES)}
        return sorted(names, key=lambda n: (order.get(n, len(order)), n))

    def parquet_source(self, name: str, *, row_numbers: bool = False) -> str:
        """A DuckDB table expression over every chunk's ``name`` table (``row_numbers``: with a column
        ``file_row_number``, each row's place in its file)."""
        files = [str(c / f"{name}.parquet") for c in self.chunks() if (c / f"{name}.parquet").exists()]
        if not files:
            raise DataError(f"{self.folder}: no stored table {name!r}; stored: {', '.join(self.tables()) or 'none'}")
        quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        return f"read_parquet([{quoted}], union_by_name = true{', file_row_number = true' if row_numbers else ''})"

    def _reset(self) -> None:
        if self._con is not None:
            if os.getpid() == self._pid:
                self._con.close()
            else:  # inherited through fork: closing (or freeing) the parent's DuckDB connection here crashes
                _INHERITED.append(self._con)
            self._con = None

    def _connection(self):
        import duckdb

        if self._con is None:
            # no progress bar: DuckDB draws one on the terminal for a query longer than 2 s (an export
            # of a 1,000-replicate run), between the command's own lines
            con = duckdb.connect()
            con.execute("SET enable_progress_bar = false")
            for name in self.tables():
                con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM {self.parquet_source(name)}')
            self._con = con
        return self._con

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """SQL over the stored tables (views named kpis, stocks, flows, housing, journeys, ...)."""
        import duckdb

        try:
            return self._connection().execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise DataError(f"{self.folder}: query failed ({exc})") from None

    def read(self, name: str, categorical: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
        """One table of every stored replicate, ordered by replicate (empty if none was kept).

        The chunks are read into one Arrow table and converted to pandas once; the stable sort by
        replicate is skipped when the rows are in replicate order already (chunks of increasing
        replicates, as an uninterrupted run writes them). The columns named in ``categorical`` come
        back as ``astype("category")`` makes them (sorted categories), read as Parquet dictionaries:
        no Python string per row (6.7 million rows of stocks in a 1,000-replicate run)."""
        if name not in self.tables():
            return pd.DataFrame()
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = [c / f"{name}.parquet" for c in self.chunks() if (c / f"{name}.parquet").exists()]
        parts = []
        for f in files:
            if categorical:
                schema = pq.read_schema(f)
                strings = [c for c in categorical if c in schema.names
                           and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
                parts.append(pq.read_table(f, read_dictionary=strings or None))
            else:
                parts.append(pq.read_table(f))
        try:
            df = pa.concat_tables(parts).to_pandas()
        except pa.ArrowInvalid:  # the chunks' schemas differ (e.g. a column all missing in one): as pandas does
            df = pd.concat([t.to_pandas() for t in parts], ignore_index=True)
        for c in categorical:
            if c in df:
                if isinstance(df[c].dtype, pd.CategoricalDtype):
                    df[c] = df[c].cat.reorder_categories(sorted(df[c].cat.categories))
                else:
                    df[c] = df[c].astype("category")
        if "replicate" in df and not df["replicate"].is_monotonic_increasing:
            df = df.sort_values("replicate", kind="stable").reset_index(drop=True)
        return df

    def in_replicate_order(self, name: str) -> bool:
        """True when reading the chunks of ``name`` one after the other gives its rows in replicate
        order: every chunk is ordered by replicate (see :meth:`flush`) and each chunk's replicates
        come after the previous chunk's (read from the Parquet statistics, not the data)."""
        import pyarrow.parquet as pq

        last = None
        for c in self.chunks():
            f = c / f"{name}.parquet"
            if not f.exists():
                continue
            meta = pq.ParquetFile(f).metadata
            if meta.num_rows == 0:
                continue
            k = meta.schema.names.index("replicate") if "replicate" in meta.schema.names else -1
            if k < 0:
                return False
            for g in range(meta.num_row_groups):
                st = meta.row_group(g).column(k).statistics
                if st is None or not st.has_min_max:
                    return False
                if last is not None and st.min < last:
                    return False
                last = st.max
        return True

    def export(self, name: str, target: str | Path) -> Path:
        """Copy one table of every replicate into one Parquet file (streamed by DuckDB, atomically)."""
        from ketenplan._io import atomic_path

        with atomic_path(target) as tmp:
            has = "replicate" in self.query(f'SELECT * FROM "{name}" LIMIT 0').columns
            if not has or self.in_replicate_order(name):
                # the chunks follow each other: rows read chunk after chunk are in replicate order already
                # and DuckDB keeps that order without a sort
                sql = f'SELECT * FROM "{name}"'
            else:
                # chunks that interleave (replicates finish out of order): sorted by replicate, then by
                # the row's place in its file (a replicate's rows all lie in one chunk). DuckDB's sort
                # is not stable: by replicate alone, a replicate's rows came out in another order from
                # one export to the next (the same rows; seen on 1,000-replicate runs)
                src = self.parquet_source(name, row_numbers=True)
                sql = f"SELECT * EXCLUDE (file_row_number) FROM {src} ORDER BY replicate, file_row_number"
            self._connection().execute(f"COPY ({sql}) TO '{tmp}' (FORMAT PARQUET)")
        return Path(target)

    def close(self) -> None:
        self._reset()
