"""Input tables as spreadsheets write them (P0.4): ``ketenplan._io.read_csv_table`` and every command
that reads a CSV, fed a file written the way Dutch-locale Excel writes it.

Dutch Excel's 'CSV (gescheiden door lijstscheidingsteken)' separates with semicolons, writes decimal
commas and Windows-1252 text with CRLF line ends; 'CSV UTF-8' adds a byte-order mark; 'Unicode text'
is UTF-16 with tabs. Each command must read such a file to the same numbers as the plain CSV.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from ketenplan._io import parse_numbers, read_csv_table
from ketenplan.cli import app
from ketenplan.errors import DataError

runner = CliRunner(env={"COLUMNS": "200"})
VARIANTS = ("cp1252", "utf8_bom", "utf16_tab")


def dutch_number(v) -> str:
    """A number as Dutch Excel writes it: decimal comma, thousands with a dot when formatted so."""
    if isinstance(v, float) and v != int(v):
        return repr(v).replace(".", ",")
    return str(int(v)) if isinstance(v, (int, float)) else str(v)


def excel_nl(rows: list[list[object]], variant: str) -> bytes:
    """Bytes of a table saved by Dutch-locale Excel: ';' (or tab) separated, decimal commas, CRLF."""
    sep = "\t" if variant == "utf16_tab" else ";"
    lines = []
    for r in rows:
        cells = []
        for c in r:
            t = dutch_number(c) if isinstance(c, (int, float)) else str(c)
            if sep in t or '"' in t:
                t = '"' + t.replace('"', '""') + '"'
            cells.append(t)
        lines.append(sep.join(cells))
    text = "\r\n".join(lines) + "\r\n"
    if variant == "cp1252":
        return text.encode("cp1252")
    if variant == "utf8_bom":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


# ----------------------------------------------------------------------------------------------
# the reader
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_reader_reads_dutch_excel(tmp_path, variant):
    p = tmp_path / "b.csv"
    p.write_bytes(excel_nl([["Municipality", "Backlog", "note"], ["Súdwest-Fryslân", 1.5, "a;b"],
                            ["Nuenen, Gerwen en Nederwetten", -3, "ä"], ["'s-Gravenhage", 2.25, ""]], variant))
    df = read_csv_table(p, what="backlog table", columns=["municipality", "backlog"], option="--backlog")
    assert list(df.columns) == ["municipality", "backlog", "note"]  # required names matched ignoring case
    assert list(df.municipality) == ["Súdwest-Fryslân", "Nuenen, Gerwen en Nederwetten", "'s-Gravenhage"]
    assert list(df.index) == [2, 3, 4]  # spreadsheet rows, header = 1
    assert df.attrs["decimal"] == ","
    assert parse_numbers(df, "backlog").tolist() == [1.5, -3.0, 2.25]
    if variant != "utf16_tab":
        assert df.note.iloc[0] == "a;b"


@pytest.mark.parametrize("cells,sep,whole,expected", [
    (["1,5", "1.234,5", "-2", "1,5E+3"], ";", False, [1.5, 1234.5, -2.0, 1500.0]),
    (["1.5", "1,234.5", "1,234", "12,25"], ",", False, [1.5, 1234.5, 1234.0, 12.25]),
    (["1.250", "7"], ";", True, [1250.0, 7.0]),       # whole numbers: the dot can only group thousands
    (["0.5", "2"], ";", False, [0.5, 2.0]),           # 0.5 cannot be a thousands separator
    (["", "abc", "nan"], ",", False, [None, None, None]),
])
def test_numbers_as_spreadsheets_write_them(tmp_path, cells, sep, whole, expected):
    p = tmp_path / "n.csv"
    q = (lambda c: f'"{c}"' if sep in c else c)
    p.write_text("x" + "\n" + "\n".join(q(c) for c in cells) + "\n", encoding="utf-8")
    if sep == ";":  # a second column makes the separator visible
        p.write_text("x;y\n" + "\n".join(f"{c};1" for c in cells) + "\n", encoding="utf-8")
    df = read_csv_table(p, what="t", columns=["x"])
    got = parse_numbers(df, "x", whole=whole).tolist()
    assert [None if g != g else g for g in got] == expected


def test_ambiguous_thousands_dot_is_an_error_naming_row_and_column(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("x;y\n1.250;2\n", encoding="utf-8")
    df = read_csv_table(p, what="t", columns=["x"], option="--opt")
    with pytest.raises(DataError, match=r"--opt .*row 2, column 'x'.*'1.250' is ambiguous.*1250 or 1,25"):
        parse_numbers(df, "x")


@pytest.mark.parametrize("content,needles", [
    (b"", ["--backlog", "empty"]),
    (b"PK\x03\x04" + b"\x00" * 30, ["--backlog", "Excel workbook", "Save As"]),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 30, ["--backlog", "97-2003", "Save As"]),
    (bytes(range(256)) * 4, ["--backlog", "not a text file", "Save As"]),
    (b"municipality|backlog\nAmsterdam|1\n", ["--backlog", "single column", "'municipality|backlog'",
                                              "commas, semicolons or tabs"]),
    (b"gemeente;achterstand\nAmsterdam;1\n", ["--backlog", "missing column(s) municipality, backlog",
                                            "'gemeente', 'achterstand' (separated by semicolons)"]),
    (b"municipality,backlog\nA,1,2\n", ["--backlog", "row 2 has 3 values", "quotes"]),
])
def test_unreadable_files_say_what_was_found_and_how_to_save(tmp_path, content, needles):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(DataError) as e:
        read_csv_table(p, what="backlog table", columns=["municipality", "backlog"], option="--backlog")
    msg = str(e.value)
    for n in needles:
        assert n in msg, (n, msg)
    assert "codec" not in msg and "Error tokenizing" not in msg and "\n" not in msg


def test_folder_and_missing_file_name_the_option(tmp_path):
    with pytest.raises(DataError, match=r"^--cases .*: is a folder"):
        read_csv_table(tmp_path, what="CASES file", columns=["case_id"], option="--cases")
    with pytest.raises(DataError, match=r"^--cases .*: file not found"):
        read_csv_table(tmp_path / "nope.csv", what="CASES file", columns=["case_id"], option="--cases")


def test_sep_line_and_spreadsheet_leftovers(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("sep=;\nmunicipality;backlog;;\nAmsterdam;3;;\n;;;\n;;;\n", encoding="utf-8")
    df = read_csv_table(p, what="t", columns=["municipality", "backlog"])
    assert list(df.columns) == ["municipality", "backlog"] and len(df) == 1 and df.index[0] == 3


# ----------------------------------------------------------------------------------------------
# every command that reads a CSV
# ----------------------------------------------------------------------------------------------
#: (command, option) of every CSV input of the command line, and the test below that reads it in Dutch form
COVERED = {("place", "--cases"), ("place", "--locations"), ("place", "--weights"), ("place", "--compatibility"),
           ("taakstelling", "--backlog"), ("backtest", "--facts")}


def test_every_csv_option_is_covered():
    """A new option that reads a CSV (its help text names a CSV) must be added to this module's tests."""
    root = typer.main.get_command(app)
    found = set()

    def walk(c, path):
        for name, sub in (getattr(c, "commands", None) or {}).items():
            walk(sub, path + (name,))
        if not getattr(c, "commands", None):
            for p in c.params:
                if p.type_descriptor.annotation is Path and "csv" in (getattr(p, "help", "") or "").lower() \
                        and p.opts[0] != "--out":
                    found.add((" ".join(path), p.opts[0]))

    walk(root, ())
    assert found == COVERED


def _example_tables():
    from ketenplan.placement.cli import example_files

    return {k: pd.read_csv(v, keep_default_na=False) for k, v in example_files().items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_place_reads_dutch_excel_to_the_same_placement(tmp_path, variant):
    t = _example_tables()
    compat = [["case_id", "location_id", "compatible"], ["h001", "Goes", 0], ["h002", "Middelburg (Z.)", 0]]
    plain = tmp_path / "plain"
    plain.mkdir()
    for k, df in t.items():
        df.to_csv(plain / f"{k}.csv", index=False)
    pd.DataFrame(compat[1:], columns=compat[0]).to_csv(plain / "compat.csv", index=False)
    nl = tmp_path / "nl"
    nl.mkdir()
    for k, df in t.items():
        (nl / f"{k}.csv").write_bytes(excel_nl([list(df.columns), *df.itertuples(index=False)], variant))
    (nl / "compat.csv").write_bytes(excel_nl(compat, variant))
    outs = {}
    for tag, d in (("plain", plain), ("nl", nl)):
        r = runner.invoke(app, ["place", "--cases", str(d / "cases.csv"), "--locations", str(d / "locations.csv"),
                                "--weights", str(d / "weights.csv"), "--compatibility", str(d / "compat.csv"),
                                "--out", str(tmp_path / f"out_{tag}")])
        assert r.exit_code == 0, r.output
        outs[tag] = pd.read_csv(tmp_path / f"out_{tag}" / "summary.csv")
    assert outs["nl"].objective.tolist() == pytest.approx(outs["plain"].objective.tolist(), rel=1e-12)
    assert outs["nl"].persons_placed.tolist() == outs["plain"].persons_placed.tolist() == [217, 217, 209]
    # the weights survived the decimal commas: the objective is the sum of the example's weights placed
    a = pd.read_csv(tmp_path / "out_nl" / "assignment.csv")
    w = t["weights"].set_index(["case_id", "location_id"]).weight
    assert a.weight.sum() == pytest.approx(w.reindex(list(zip(a.case_id, a.location_id))).sum(), rel=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_taakstelling_reads_a_dutch_excel_backlog(tmp_path, variant):
    rows = [["gemeente (ignored)", "municipality", "backlog"], ["x", "Súdwest-Fryslân", 12],
            ["y", "Nuenen, Gerwen en Nederwetten", -3], ["z", "'s-Gravenhage", "1.250"], ["w", "amsterdam", 7]]
    p = tmp_path / "backlog.csv"
    p.write_bytes(excel_nl(rows, variant))
    r = runner.invoke(app, ["taakstelling", "--period", "2026-H1", "--total", "20000", "--backlog", str(p),
                            "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(tmp_path / "out" / "taakstelling_2026-H1.csv").set_index("municipality")
    assert t.loc["Súdwest-Fryslân", "backlog"] == 12
    assert t.loc["Nuenen, Gerwen en Nederwetten", "backlog"] == -3
    assert t.loc["'s-Gravenhage", "backlog"] == 1250    # a Dutch thousands separator in a whole-number column
    assert t.loc["Amsterdam", "backlog"] == 7            # names matched ignoring case
    assert t.backlog.sum() == 12 - 3 + 1250 + 7


@pytest.mark.parametrize("variant", VARIANTS)
def test_backtest_reads_dutch_excel_facts(tmp_path, variant):
    rows = [["Date", "Quantity", "Value"], ["2014-03", "coa_occupancy", "24.929"],
            ["31-3-2014", "permit_holders_in_reception", 6051.5]]
    p = tmp_path / "facts.csv"
    p.write_bytes(excel_nl(rows, variant))
    sc = tmp_path / "h.toml"
    sc.write_text('base = "nl_history"\nname = "h"\n[simulation]\nend = 2014-04-30\nreplicates = 1\n')
    r = runner.invoke(app, ["backtest", "--facts", str(p), "--scenario", str(sc), "--out", str(tmp_path / "bt")])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(tmp_path / "bt" / "backtest.csv")
    # 24.929 is 24,929 (the file writes decimal commas elsewhere, so the dot groups thousands); the Dutch
    # day 31-3-2014 is read as 2014-03-31
    assert dict(zip(t.quantity, t.observed)) == {"coa_occupancy": 24929.0, "permit_holders_in_reception": 6051.5}
    assert set(t.date) == {"2014-03", "2014-03-31"}


def test_backtest_facts_errors_before_simulating(tmp_path):
    p = tmp_path / "facts.csv"
    p.write_text("date;quantity;value\n2014;no_such_quantity;1\n", encoding="utf-8")
    r = runner.invoke(app, ["backtest", "--facts", str(p), "--out", str(tmp_path / "bt")])
    assert r.exit_code == 2
    msg = " ".join(r.output.split())
    assert "--facts" in msg and "no known quantity" in msg and "coa_occupancy" in msg
    assert re.search(r"row 2", msg)
