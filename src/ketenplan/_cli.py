"""Shared helpers for command modules: one console, one way to report errors, one table printer."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ketenplan.errors import KetenplanError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., object])


def handle_errors(func: F) -> F:
    """Turn a KetenplanError into a one-line red message and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KetenplanError as exc:
            err_console.print("[bold red]error:[/] " + escape(str(exc)), soft_wrap=True)
            raise typer.Exit(code=2) from None
        except OSError as exc:  # a file or folder the user named cannot be read or written
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            err_console.print("[bold red]error:[/] " + escape(f"{exc.strerror or exc}:{where}"), soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def show_warnings_plainly() -> None:
    """Show our own warnings (plausibility, data) as one 'warning:' line each, without a source line."""
    import warnings

    from ketenplan.errors import KetenplanWarning

    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, KetenplanWarning):
            err_console.print("[yellow]warning:[/] " + escape(str(message)), soft_wrap=True)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show


# ----------------------------------------------------------------------------------------------
# tables that fit the terminal and never cut a number (P0.4)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Col:
    """A column of :func:`print_table`.

    ``number``: right-aligned and never wrapped or cut (the header may wrap). ``wrap``: text that may
    wrap over lines (labels); with ``wrap=False`` text is kept whole like a number (ids, dates).
    ``key``: repeated in every part when the columns are split over several tables, and the heading
    of each record in the long form.
    """

    header: str
    number: bool = False
    key: bool = False
    wrap: bool = True

    @property
    def whole(self) -> bool:
        return self.number or not self.wrap


#: a label column may be narrowed down to this many characters before the table is split [characters]
LABEL_MIN_WIDTH = 12
#: a header may be narrowed to this width (wrapping at spaces) before it decides a column's width
HEADER_MIN_WIDTH = 10


def fmt_number(value: object, decimals: int | None = None) -> str:
    """A number for a table: thousands separators, no exponent, 'n/a' for missing.

    ``decimals`` fixes the decimals; by default they follow the size: 0 from 1,000 (and for whole
    numbers), 1 from 100, 2 from 1, and 3 significant digits below 1.
    """
    if value is None:
        return "n/a"
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a" if type(value).__name__ == "NAType" else str(value)
    if v != v:
        return "n/a"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if decimals is None:
        a = abs(v)
        if a >= 1000 or v == round(v):
            decimals = 0
        elif a >= 100:
            decimals = 1
        elif a >= 1:
            decimals = 2
        else:
            decimals = min(6, 2 - int(math.floor(math.log10(a))))
    return f"{v:,.{decimals}f}"


def _widths(cols: list[Col], cells: list[list[str]], room: int) -> list[int] | None:
    """Column widths that fit ``room`` characters (borders included), or None when none do.

    Columns give up width in this order, each step only as far as needed: headers of numbers wrap
    at their spaces; labels wrap at their spaces; labels fold down to ``LABEL_MIN_WIDTH``; headers
    of numbers fold down to ``HEADER_MIN_WIDTH``. A number column is never narrower than its
    longest cell, so numbers are never wrapped or cut.
    """
    from rich.cells import cell_len

    overhead = 3 * len(cols) + 1  # rich's default box: a border and one space either side of every cell
    room -= overhead
    hi, a, b, c, d = [], [], [], [], []
    for k, col in enumerate(cols):
        content = max((cell_len(r[k]) for r in cells), default=0)
        head = cell_len(col.header)
        hword = max((cell_len(w) for w in col.header.split()), default=0)
        full = max(content, head, 1)
        hi.append(full)
        if col.whole:
            wrapped = max(content, hword, 1)
            a.append(wrapped)
            b.append(wrapped)
            c.append(wrapped)
            d.append(max(content, min(hword, HEADER_MIN_WIDTH), 1))
        else:
            cword = max((cell_len(w) for r in cells for w in r[k].split()), default=0)
            spaced = max(cword, hword, 1)
            folded = min(spaced, max(min(cword, LABEL_MIN_WIDTH), min(hword, HEADER_MIN_WIDTH), 4))
            a.append(full)
            b.append(spaced)
            c.append(folded)
            d.append(folded)
    if sum(hi) <= room:
        return hi
    steps = [hi, a, b, c, d]
    for wide, narrow in zip(steps, steps[1:]):
        if sum(narrow) <= room:  # between the two: share the room left in proportion to what each gave up
            extra = room - sum(narrow)
            slack = [x - y for x, y in zip(wide, narrow)]
            total = sum(slack)
            return [y + (extra * s // total if total else 0) for y, s in zip(narrow, slack)]
    return None


def _render(title: str | None, cols: list[Col], cells: list[list[str]], widths: list[int], out) -> None:
    from rich.table import Table
    from rich.text import Text

    table_width = sum(widths) + 3 * len(widths) + 1
    # a title wider than the table goes on its own line rather than wrapping into the table's width
    inline = title is not None and len(title) <= table_width
    if title is not None and not inline:
        out.print(Text(title, style="italic"), soft_wrap=True)
    t = Table(title=Text(title) if inline else None)
    for c, w in zip(cols, widths):
        # numbers never wrap: their width is at least their longest cell; only the header may wrap
        t.add_column(Text(c.header), justify="right" if c.number else "left", width=w, overflow="fold")
    for r in cells:
        t.add_row(*(Text(v) for v in r))
    out.print(t)


def print_table(title: str, columns: list[Col | str], rows, *, console_: "Console | None" = None,
                max_parts: int = 3) -> None:
    """Print a table that fits the terminal without cutting a number.

    ``rows``: sequences of cells, one per column; numbers are best given preformatted
    (:func:`fmt_number`); other values are shown with ``str``. The layout is, in order of
    preference: every column at full width; headers and labels wrapped; the columns split over at
    most ``max_parts`` tables (the ``key`` columns repeated in each); one block per record (long
    form). Numbers and ``wrap=False`` text are never wrapped, folded or cut.
    """
    out = console_ or console
    cols = [c if isinstance(c, Col) else Col(c) for c in columns]
    cells = [["" if v is None else str(v) for v in r] for r in rows]
    for r in cells:
        if len(r) != len(cols):
            raise ValueError(f"print_table: a row has {len(r)} cells for {len(cols)} columns")
    room = out.width
    widths = _widths(cols, cells, room)
    if widths is not None:
        _render(title, cols, cells, widths, out)
        return
    keys = [k for k, c in enumerate(cols) if c.key] or [0]
    rest = [k for k in range(len(cols)) if k not in keys]
    groups: list[list[int]] = []
    for k in rest:
        trial = (groups[-1] + [k]) if groups else [k]
        sub = keys + trial
        if groups and _widths([cols[i] for i in sub], [[r[i] for i in sub] for r in cells], room) is not None:
            groups[-1] = trial
        else:
            groups.append([k])
    parts = []
    for g in groups:
        sub = keys + g
        w = _widths([cols[i] for i in sub], [[r[i] for i in sub] for r in cells], room)
        if w is None:
            parts = None
            break
        parts.append((sub, w))
    if parts and len(parts) <= max_parts:
        for i, (sub, w) in enumerate(parts, start=1):
            _render(f"{title} ({i} of {len(parts)})", [cols[j] for j in sub], [[r[j] for j in sub] for r in cells],
                    w, out)
        return
    # long form: one block per record, nothing wrapped by us and nothing cut
    from rich.text import Text

    out.print(Text(title, style="bold"), soft_wrap=True)
    width = max((len(cols[k].header) for k in rest), default=0)
    for r in cells:
        out.print(Text(" · ".join(r[k] for k in keys), style="bold"), soft_wrap=True)
        for k in rest:
            out.print(Text(f"  {cols[k].header.ljust(width)}  {r[k]}"), soft_wrap=True)


def print_kpi_table(title: str, rows, stats=("mean", "p10", "p90")) -> None:
    """Key figures (``rows``: (name, record with the stats and 'unit')) as a table that never cuts a
    number (see :func:`print_table`)."""
    cols = [Col("key figure", key=True)] + [Col(s, number=True) for s in stats] + [Col("unit")]
    print_table(title, cols, [[name, *(fmt_number(r[s]) for s in stats), str(r["unit"])] for name, r in rows])
