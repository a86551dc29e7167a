"""CSV cells a spreadsheet cannot run as formulas (CSV injection), for every CSV the app exports
(the history download, the lab's models tables).

A spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a
formula. A comma-separated file opened where the list separator is ``;`` (most of continental
Europe) splits a cell at each ``;`` too, so ``Title;=HYPERLINK(...)`` becomes a formula cell of
its own (issue 21: the history export left cells starting with ``;=``). Rule: at the start of
the cell and after every ``;``, ``,`` or ``|`` (spaces skipped), a trigger character gets a
``'`` in front, and every text cell is quoted, so a reader that honours quotes keeps it one cell.

>>> neutralise("=1+1")
"'=1+1"
>>> neutralise("Jaws;=HYPERLINK(0); +x")
"Jaws;'=HYPERLINK(0); '+x"
>>> neutralise("Mad Max - Fury Road")
'Mad Max - Fury Road'
"""

from __future__ import annotations

import re

import polars as pl

#: A trigger at the start of the cell or of a separator-split part (spaces before it skipped).
TRIGGER = r"(^|[;,|])( *)([=+\-@\t\r])"
_TRIGGER = re.compile(TRIGGER)


def neutralise(text: str) -> str:
    """``text`` with a ``'`` before every formula trigger at the start of a part."""
    return _TRIGGER.sub(r"\1\2'\3", text)


def safe_csv(frame: pl.DataFrame) -> str:
    """``frame`` as CSV with every text cell neutralised and quoted."""
    text_cols = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    out = frame.with_columns(pl.col(c).str.replace_all(TRIGGER, "${1}${2}'${3}") for c in text_cols)
    return out.write_csv(quote_style="non_numeric")
