"""Generic events and items tables (CSV or parquet), columns named by the user."""

from __future__ import annotations

import pytest

from simrec.errors import GroundingError
from simrec.grounding.generic import TableColumns, read_table
from tests.grounding_logs import make_log, write_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_events_and_items_tables_are_read(tmp_path, suffix):
    log = make_log()
    events, items = write_table(log, tmp_path, suffix)
    read = read_table(events, items, TableColumns(year="year"), domain="films")
    assert len(read.interactions) == len(log.events) and read.domain == "films"
    assert read.report.total == 0 and len(read.items) == len(log.items)


def test_renamed_columns_clicks_prices_and_date_times(tmp_path):
    events, items = tmp_path / "e.csv", tmp_path / "i.csv"
    events.write_text(
        "who,what,clicked,when\n"
        "a,x,1,2024-01-02T10:00:00\nb,x,0,2024-01-02T11:00:00\na,y,1,2024-01-03 09:00\n"
        "a,z,1,not a date\n"
    )
    items.write_text("sku,name,cat,cost\nx,X,shoes,10\ny,Y,hats,-1\nz,Z,hats,5\n")
    columns = TableColumns(
        user="who", item="what", rating=None, click="clicked", timestamp="when",
        item_id="sku", title="name", genres="cat", price="cost",
    )  # fmt: skip
    read = read_table(events, items, columns)
    assert read.interactions.users.tolist() == ["a", "a"]
    assert read.interactions.timestamps[0] == 1704189600
    counts = read.report.counts
    assert counts["interactions: click is 0 (an impression, not an interaction)"] == 1
    assert counts["interactions: timestamp is not a time"] == 1
    assert read.report.examples["items: price is not a non-negative number"] == [
        "i.csv:3: field 'price': '-1'"
    ]


def test_a_missing_column_names_the_file_and_the_option(tmp_path):
    events, items = write_table(make_log(), tmp_path)
    with pytest.raises(
        GroundingError, match=r"events.csv: no column 'rate' for the rating .*--rating-column"
    ):
        read_table(events, items, TableColumns(rating="rate"))
    with pytest.raises(GroundingError, match="unknown table format '.txt'"):
        read_table(tmp_path / "e.txt", items)
