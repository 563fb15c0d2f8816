"""A PubMed bulk refresh killed with SIGKILL in each step, then run again, ends with
exactly the marts of a clean run: nothing lost, nothing twice, deletions applied.

The release is NLM's baseline and update file samples plus a derived next update file
that revises one article and deletes two. Small windows (15 articles) put the kill in the
middle of the baseline file, so the rerun resumes inside a file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.dbt_runner import build_sources
from tests.conftest import land_source, query
from tests.extract.test_pubmed import BASELINE, DERIVED_UPDATE, UPDATE
from tests.flows.test_killed_runs import (
    each_step,
    kill_in_each_step,
    marts_of_a_clean_run,
)

PER_WINDOW = 15


def marts(connection) -> dict[str, list[tuple]]:
    """What an analyst sees, without the load times (they differ from run to run)."""
    return {
        "articles": query(
            connection,
            "select pmid, pmid_version, title, abstract, journal_title, publication_date, "
            "authors, mesh_terms, doi, publication_status, date_revised "
            "from marts.pubmed_articles order by 1",
        ),
        "mesh_terms": query(
            connection,
            "select article_mesh_term_id, descriptor_ui, qualifier_uis, is_major_topic "
            "from marts.article_mesh_terms order by 1",
        ),
    }


def rerun(connection, location: Path) -> None:
    land_source(
        connection, "pubmed", bulk_location=str(location), bulk_articles_per_window=PER_WINDOW
    )
    build_sources(connection, ["pubmed"])


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pubmed-release")
    for file in (BASELINE, UPDATE, DERIVED_UPDATE):
        shutil.copy(file, folder / file.name)
    return folder


@pytest.fixture(scope="module")
def clean_marts(templates, release: Path):
    """The marts of one clean bulk run of the release."""
    return marts_of_a_clean_run(
        templates, "clean_bulk_pubmed", lambda connection: rerun(connection, release), marts
    )


# Killed in the extract of the second window, then in normalize and load, then in the build.
KILLS = each_step(("extract.pubmed:article_row", 20), "int_articles_deduplicated")


@pytest.mark.long
def test_bulk_run_killed_in_each_step_then_rerun_equals_a_clean_run(
    database, clean_marts, release: Path, tmp_path
):
    kill_in_each_step(
        KILLS,
        tmp_path,
        source="pubmed",
        source_args={"bulk_location": str(release), "bulk_articles_per_window": PER_WINDOW},
    )

    rerun(database, release)

    landed = marts(database)
    assert landed == clean_marts
    assert len(landed["articles"]) == 58  # 60 sampled articles, two deleted
