"""File input and output shared by the commands.

Output is atomic: write to a temporary file beside the target, then rename. Nothing half-written
is ever left at the target path: if writing fails the temporary file is removed and the previous
file (if any) stays untouched.

Input tables are read as spreadsheets write them (:func:`read_csv_table`, :func:`parse_numbers`):
comma, semicolon or tab separated, UTF-8 (with or without BOM), UTF-16 or Windows-1252 text,
decimal points or decimal commas (P0.4). :func:`require_memory` refuses work that cannot fit.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd


@contextlib.contextmanager
def leave_nothing(*paths: str | os.PathLike[str] | None) -> Iterator[None]:
    """On failure, remove what this command created and left empty: each of ``paths`` that did not
    exist before is removed again if it is an empty folder or a file (e.g. a results store created
    for the run, with its DuckDB write-ahead log). Folders with content (e.g. replicates kept for a
    resume) stay."""
    paths_ = [Path(p) for p in paths if p is not None]
    existed = {p: p.exists() for p in paths_}
    try:
        yield
    except BaseException:
        for p in paths_:
            if existed[p]:
                continue
            with contextlib.suppress(OSError):
                if p.is_dir():
                    p.rmdir()  # only succeeds when empty
                elif p.exists():
                    p.unlink()
                    wal = p.with_name(p.name + ".wal")
                    if wal.exists():
                        wal.unlink()
        raise


def ensure_folder(folder: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Create ``folder`` (with parents) or raise a DataError that says why it cannot be used."""
    from ketenplan.errors import DataError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{what} {folder}: is a file; expected a folder (give another --out)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{what} {folder}: cannot be created ({exc.strerror or exc}); "
                        "expected a writable folder (give another --out)") from None
    if not os.access(folder, os.W_OK):
        raise DataError(f"{what} {folder}: is not writable; give another --out")
    return folder


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success."""
    from ketenplan.errors import DataError

    target = Path(target)
    ensure_folder(target.parent)
    if target.is_dir():
        raise DataError(f"cannot write {target}: a folder of that name is in the way; remove it or give another --out")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def staged_folder(folder: str | os.PathLike[str], owned: tuple[str, ...] = ()) -> Iterator[Path]:
    """Write a command's outputs into a temporary folder beside ``folder``; on success move them in.

    If anything fails while the outputs are written, ``folder`` is left as it was. On success,
    files named in ``owned`` (glob patterns of this command's outputs) that this run did not write
    are removed, so that no file of an earlier run is left beside the new ones.
    """
    folder = ensure_folder(folder)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        yield stage
        written = {p.name for p in stage.iterdir()}
        blocked = sorted(n for n in written if (folder / n).is_dir())
        if blocked:
            from ketenplan.errors import DataError
            raise DataError(f"output folder {folder}: {', '.join(blocked)} exist(s) as folder(s) where files are "
                            "written; nothing was changed. Remove them or give another --out")
        for pattern in owned:
            for old in folder.glob(pattern):
                if old.is_file() and old.name not in written:
                    old.unlink()
        for p in stage.iterdir():
            os.replace(p, folder / p.name)
    finally:
        for p in stage.glob("*"):
            with contextlib.suppress(OSError):
                p.unlink()
        with contextlib.suppress(OSError):
            stage.rmdir()


def write_with(target: str | os.PathLike[str], writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` and atomically move the result to ``target``."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 text."""
    return write_with(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_csv(target: str | os.PathLike[str], df: pd.DataFrame, **kwargs) -> Path:
    """Atomically write a DataFrame as CSV (no index unless asked)."""
    kwargs.setdefault("index", False)
    return write_with(target, lambda p: df.to_csv(p, **kwargs))


def write_parquet(target: str | os.PathLike[str], df: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as Parquet (pyarrow)."""
    return write_with(target, lambda p: df.to_parquet(p, index=False))


# ----------------------------------------------------------------------------------------------
# reading tables as spreadsheets write them (P0.4)
# ----------------------------------------------------------------------------------------------
SAVE_AS = ("save it from the spreadsheet as 'CSV UTF-8 (comma delimited)' or 'CSV (semicolon delimited)' "
           "(Excel: File > Save As)")
_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}
_SEP_LINE = re.compile(r'^"?sep=(.)"?\s*$', re.IGNORECASE)  # Excel's optional first line, e.g. sep=;
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# numbers as spreadsheets write them; see parse_numbers
_EXP = r"(?:[eE][+-]?\d+)?"
_PLAIN_DOT = re.compile(rf"^[+-]?(?:\d+\.?\d*|\.\d+){_EXP}$")              # 1234  1234.5  .5  1.5E+15
_PLAIN_COMMA = re.compile(rf"^[+-]?(?:\d+,?\d*|,\d+){_EXP}$")              # 1234  1234,5  1,5E+15
_GROUPED_DOT = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")     # 1.234  1.234.567,5 (Dutch)
_GROUPED_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")   # 1,234  1,234,567.5 (English)


def _source(path: Path, option: str | None) -> str:
    return f"{option} {path}" if option else str(path)


def available_memory() -> int:
    """Bytes of memory available to this process now (Linux MemAvailable; else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on Linux/macOS
        return 8 * 2**30


def human_bytes(n: float) -> str:
    """``n`` bytes as a short readable size (e.g. '3.2 GB', '72.8 TB')."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"  # pragma: no cover


def require_memory(need_bytes: float, *, what: str, fits: str = "") -> None:
    """Raise a DataError when ``need_bytes`` (an estimate) exceeds the memory available now.

    ``what`` names the option(s) and the sizes that lead to the estimate; ``fits`` says what would fit.
    """
    from ketenplan.errors import DataError

    have = available_memory()
    if need_bytes > have:
        msg = (f"{what}: needs about {human_bytes(need_bytes)} of memory, {human_bytes(have)} is available")
        raise DataError(msg + (f"; {fits}" if fits else ""))


def _decode(raw: bytes, src: str, what: str) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1."""
    import codecs

    from ketenplan.errors import DataError

    if raw.startswith(b"PK\x03\x04"):
        raise DataError(f"{src}: is an Excel workbook (.xlsx) or another zip file, not a CSV text file; "
                        f"expected the {what} as CSV. Fix: {SAVE_AS}")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"{src}: is an Excel 97-2003 workbook (.xls), not a CSV text file; expected the {what} "
                        f"as CSV. Fix: {SAVE_AS}")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")  # Excel's 'Unicode text' (tab separated)
        except UnicodeDecodeError as exc:
            raise DataError(f"{src}: starts as UTF-16 text but byte {exc.start} is not; expected the {what} as "
                            f"CSV text. Fix: {SAVE_AS}") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{src}: starts with a UTF-8 mark but byte {exc.start + 3} ({raw[exc.start]:#04x}) is "
                            f"not UTF-8; expected the {what} as CSV text. Fix: {SAVE_AS}") from None
    for enc in ("utf-8", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # every byte is a Latin-1 character


def _split_line(line: str, sep: str) -> list[str]:
    import csv

    rows = list(csv.reader([line], delimiter=sep))
    return [c.strip() for c in rows[0]] if rows else []


def read_csv_table(path: str | os.PathLike[str], *, what: str, columns: list[str] | tuple[str, ...],
                   option: str | None = None) -> pd.DataFrame:
    """Read a CSV table the way a spreadsheet writes it; every cell as a stripped string.

    Accepted: comma, semicolon or tab separators (chosen from the header row; Excel's optional
    ``sep=;`` first line is honoured), UTF-8 with or without a byte-order mark, UTF-16 with a mark
    (Excel's 'Unicode text') and Windows-1252 / Latin-1 text (what Excel writes as 'CSV' on a
    Dutch Windows). Header names are matched to ``columns`` ignoring case and surrounding spaces
    and renamed to them; other columns keep their (stripped) names. Empty trailing columns and
    rows (spreadsheet left-overs) are dropped; a short row is padded with empty cells.

    Returns a DataFrame of strings (object dtype) whose index is the spreadsheet row number (header = row 1, as
    in error messages); ``attrs``: ``source`` (option and file, for messages), ``decimal`` (``','``
    when numbers are written with decimal commas, ``'.'`` when with decimal points, ``None``
    when the file does not say) and ``separator``. Convert numbers with :func:`parse_numbers`.

    Raises DataError naming ``option`` and the file: missing file, a folder, an empty file, a
    workbook or binary file, a missing column (with what the header row was read as), a row with
    more values than the header; each says how to save the file.
    """
    from ketenplan.errors import DataError

    path = Path(path)
    src = _source(path, option)
    cols_txt = ", ".join(columns)
    if not path.exists():
        raise DataError(f"{src}: file not found; expected the {what} as a CSV file with columns {cols_txt}")
    if path.is_dir():
        raise DataError(f"{src}: is a folder; expected the {what} as a CSV file with columns {cols_txt}")
    try:
        size = path.stat().st_size
        # parsed cells take roughly 20x the file's bytes as Python strings
        require_memory(20.0 * size, what=f"{src} ({human_bytes(size)})",
                       fits=f"split the {what} or read it on a machine with more memory")
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{src}: cannot be read ({exc.strerror or exc}); expected a readable CSV file") from None
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise DataError(f"{src}: the file is empty; expected the {what} with a header row {cols_txt} "
                        "and a row per record")
    text = unicodedata.normalize("NFC", _decode(raw, src, what))
    ctrl = _CONTROL.findall(text)
    if "\x00" in text or len(ctrl) > max(2, len(text) // 200):
        first = ctrl[0] if ctrl else "\x00"
        raise DataError(f"{src}: is not a text file (it contains binary bytes such as {ord(first):#04x}); expected "
                        f"the {what} as a CSV text file with columns {cols_txt}. Fix: {SAVE_AS}")
    lines = text.splitlines()
    first_row = 0
    while first_row < len(lines) and not lines[first_row].strip(" \t,;"):
        first_row += 1  # blank lines above the header
    sep = None
    if first_row < len(lines) and (m := _SEP_LINE.match(lines[first_row].strip())):
        sep = m.group(1)
        first_row += 1
    if first_row >= len(lines):
        raise DataError(f"{src}: no header row; expected the {what} with a header row {cols_txt}")
    header_line = lines[first_row]
    wanted = {c.lower(): c for c in columns}
    if sep is None:
        def score(s: str) -> tuple[int, int]:
            names = [n.lower() for n in _split_line(header_line, s)]
            return sum(n in wanted for n in set(names)), len(names)
        sep = max(_SEPARATORS, key=score)
    import csv
    import io

    rows = list(csv.reader(io.StringIO("\n".join(lines[first_row:])), delimiter=sep))
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    # spreadsheet left-overs: unnamed empty columns at the right, empty rows at the bottom
    while header and header[-1] == "" and all(len(r) < len(header) or not r[len(header) - 1].strip()
                                              for r in body):
        header.pop()
    while body and not any(c.strip() for c in body[-1]):
        body.pop()
    names_lower = [h.lower() for h in header]
    missing = [c for c in columns if c.lower() not in names_lower]
    if missing:
        if len(header) == 1:
            found = (f"the header row {header_line.strip()!r}, read as a single column: the names are not separated "
                     "by commas, semicolons or tabs")
        else:
            found = f"columns {', '.join(repr(h) for h in header)} (separated by {_SEPARATORS[sep]})"
        raise DataError(f"{src}: missing column(s) {', '.join(missing)}; expected the {what} with a header row "
                        f"naming the columns {cols_txt}, found {found}. Fix: name the columns in the first row "
                        f"and {SAVE_AS}")
    for k, h in enumerate(header):
        if not h:
            raise DataError(f"{src}: column {k + 1} of the header row has no name; expected names such as "
                            f"{cols_txt}")
    dup = sorted({h for h in names_lower if names_lower.count(h) > 1})
    if dup:
        raise DataError(f"{src}: column {dup[0]!r} appears more than once in the header row; expected each column once")
    header = [wanted.get(h.lower(), h) for h in header]
    n = len(header)
    cells: list[list[str]] = []
    for k, r in enumerate(body):
        if len(r) > n:
            if any(c.strip() for c in r[n:]):
                row = first_row + k + 2
                raise DataError(f"{src}: row {row} has {len(r)} values but the header row names {n} columns "
                                f"(separated by {_SEPARATORS[sep]}); expected {n} values per row. Fix: put quotes "
                                f"around a value that contains {_SEPARATORS[sep][:-1]}s, or remove the extra values")
            r = r[:n]
        cells.append([c.strip() for c in r] + [""] * (n - len(r)))
    index = pd.RangeIndex(first_row + 2, first_row + 2 + len(cells), name="row")
    df = pd.DataFrame(cells, columns=header, index=index, dtype=object) if cells else \
        pd.DataFrame({h: pd.Series([], dtype=object) for h in header}, index=index)
    df.attrs.update(source=src, separator=sep, decimal=_decimal_mark(df, sep))
    return df


def _decimal_mark(df: pd.DataFrame, sep: str) -> str | None:
    """',' when a cell is a number with a decimal comma; '.' for comma-separated files or a cell with a
    decimal point that cannot be a thousands separator; None when the file does not tell."""
    if sep == ",":
        return "."
    values = pd.unique(df.to_numpy().ravel()) if df.size else []
    has_dot = False
    for v in values:
        if "," in v and (_PLAIN_COMMA.match(v) or _GROUPED_DOT.match(v)):
            return ","
        if "." in v and _PLAIN_DOT.match(v) and not _GROUPED_DOT.match(v):
            has_dot = True
    return "." if has_dot else None


def parse_numbers(df: pd.DataFrame, column: str, *, whole: bool = False) -> pd.Series:
    """Numbers of ``df[column]`` (a :func:`read_csv_table` result) as floats; NaN where a cell is
    empty or not a number.

    Written as spreadsheets write them: ``1234.5``, ``1,234.5`` and ``1.5E+15`` where the file uses
    decimal points; ``1234,5``, ``1.234,5`` and ``1,5E+15`` where it uses decimal commas (Dutch
    Excel). A mark that can only be a decimal mark (``0.5``, ``12,25``) is read as one in either
    kind of file. A number such as ``1.250`` in a file that does not tell which mark it uses
    (semicolon separated, no decimal comma or point anywhere) is read as 1250 when the column holds
    whole numbers (``whole``: 1.25 could not be one); otherwise it is ambiguous (1250 or 1.25) and
    raises a DataError naming the row and column.
    """
    from ketenplan.errors import DataError

    decimal = df.attrs.get("decimal", ".")
    src = df.attrs.get("source", "table")
    s = df[column].astype(str)
    if decimal is None and whole:
        decimal = ","  # 1.250 can only be 1250 in a column of whole numbers
    if decimal == ",":
        grouped = s.str.match(_GROUPED_DOT.pattern)
        t = s.where(~grouped, s.str.replace(".", "", regex=False)).str.replace(",", ".", regex=False)
        return pd.to_numeric(t, errors="coerce").astype(float).rename(column)
    if decimal is None:
        amb = s.str.match(_GROUPED_DOT.pattern) & ~s.str.contains(",", regex=False)
        if amb.any():
            row = amb.index[int(np.flatnonzero(amb.to_numpy())[0])]
            raise DataError(f"{src}, row {row}, column '{column}': {s[row]!r} is ambiguous: no number in the file shows its "
                            "decimal mark, so 1.250 may be 1250 (Dutch thousands separator) or 1.25 (decimal point); expected a number without thousands separators. Fix: write "
                            "1250 or 1,25")
    vals = pd.to_numeric(s, errors="coerce").astype(float)
    for row in s.index[(vals.isna() & s.str.contains(",", regex=False)).to_numpy()]:
        v = s[row]
        if decimal == "." and _GROUPED_COMMA.match(v):      # 1,234 or 1,234.5 (English)
            vals[row] = float(v.replace(",", ""))
        elif _PLAIN_COMMA.match(v) or _GROUPED_DOT.match(v):  # 12,25 or 1.234,5: only a decimal comma
            vals[row] = float(v.replace(".", "").replace(",", "."))
    return vals.rename(column)
