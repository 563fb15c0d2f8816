"""An Orange Book refresh killed with SIGKILL in each step, then run again, ends with
exactly the marts of a clean run: nothing lost, nothing twice.

The killed run is a child process (see `test_killed_runs.kill_child_when_it_hangs`) that
lands a release cut from FDA's real one (three files, so three committed windows) and
builds the marts; the rerun is a plain, unhooked run in this process.
"""

from __future__ import annotations

import pytest

from tests.conftest import land_source, query
from tests.extract.test_orangebook import EXCERPT, build
from tests.flows.test_killed_runs import (
    each_step,
    kill_in_each_step,
    marts_of_a_clean_run,
)

RELEASE = str(EXCERPT)


def marts(connection) -> dict[str, list[tuple]]:
    """What an analyst sees."""
    return {
        "products": query(
            connection,
            "select product_id, trade_name, marketing_status, approval_date, patent_count, "
            "patent_numbers, exclusivity_count, released_at "
            "from marts.orange_book_products order by 1",
        ),
        "patents": query(
            connection,
            "select product_id, patent_no, patent_use_code, patent_expire_date "
            "from marts.orange_book_patents order by 1, 2, 3",
        ),
        "exclusivities": query(
            connection,
            "select product_id, exclusivity_code, exclusivity_date "
            "from marts.orange_book_exclusivities order by 1, 2, 3",
        ),
    }


def rerun(connection) -> None:
    land_source(connection, "orangebook", bulk_location=RELEASE)
    build(connection)


@pytest.fixture(scope="module")
def clean_marts(templates):
    """The marts of one clean run."""
    return marts_of_a_clean_run(templates, "clean_orangebook", rerun, marts)


# Killed opening the second file to land it (the 9th open: each window first reads the
# header lines of the files offered; the first file's window is committed), then in
# normalize and load, then in the build.
KILLS = each_step(("extract.bulk:BulkMember.open", 9), "int_orange_book_products_current")


@pytest.mark.long
def test_release_killed_in_each_step_then_rerun_equals_a_clean_run(database, clean_marts, tmp_path):
    kill_in_each_step(KILLS, tmp_path, source="orangebook", source_args={"bulk_location": RELEASE})

    rerun(database)

    assert marts(database) == clean_marts
    assert clean_marts["products"], "the clean run built the marts"
    assert query(database, "select count(*) from raw_orangebook.products") == [(300,)]
