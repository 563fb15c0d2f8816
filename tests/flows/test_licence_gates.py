"""Licence gates: a source needing the user's own token runs only when it is configured
and says so plainly otherwise; licensed publishers are not mirrored; the run summary
carries each source's data-quality summary."""

from __future__ import annotations

from dataclasses import replace

import pytest

from extract.spec import TokenGate
from flows.refresh import refresh
from flows.sources import SOURCES, spec_of
from tests.conftest import query
from tests.extract.test_census import (
    COUNTY_2022,
    census_api,  # noqa: F401 - the replay fixture
)


@pytest.fixture
def census_needs_a_key(monkeypatch: pytest.MonkeyPatch):
    """The Census source as if its key were required (no registered source needs one yet:
    the Census and Socrata tokens are optional)."""
    gate = TokenGate("sources.census.api_key", required=True, sign_up="https://example.org/key")
    monkeypatch.setitem(SOURCES, "census", replace(SOURCES["census"], token=gate))
    monkeypatch.delenv("SOURCES__CENSUS__API_KEY", raising=False)


def test_a_source_whose_token_is_missing_is_skipped_with_a_plain_message(
    database, prefect_server, census_needs_a_key
):
    outcome = refresh(sources=["census"])

    reason = outcome["census"]["skipped"]
    assert reason == (
        "census: skipped, it needs your own key or token: get one at https://example.org/key "
        "and set sources.census.api_key in .dlt/secrets.toml (or SOURCES__CENSUS__API_KEY)"
    )
    assert query(database, "select count(*) from raw_census.estimates") == [(0,)]
    assert query(database, "select count(*) from ops.refresh_runs where source = 'census'") == [
        (0,)
    ]


def test_a_configured_token_opens_the_gate(census_needs_a_key, monkeypatch):
    assert spec_of("census").skip_reason() is not None
    monkeypatch.setenv("SOURCES__CENSUS__API_KEY", "a-key")
    assert spec_of("census").skip_reason() is None


def test_optional_tokens_never_stop_a_source(monkeypatch):
    monkeypatch.delenv("SOURCES__CENSUS__API_KEY", raising=False)
    monkeypatch.delenv("SOURCES__CDCPLACES__API_KEY", raising=False)
    assert spec_of("census").skip_reason() is None
    assert spec_of("cdcplaces").skip_reason() is None


@pytest.mark.parametrize("name", ["umls", "oncokb", "nccn", "cpt"])
def test_licensed_publishers_are_not_mirrored_and_say_why(name):
    with pytest.raises(ValueError, match=f"^{name} is not mirrored: .*licen|^nccn is not"):
        spec_of(name)


def test_the_run_summary_carries_the_data_quality_summary(
    database,
    prefect_server,
    census_api,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setenv("SOURCES__CENSUS__GEOGRAPHIES", '["county"]')
    census_api.answers[(2022, "county", None)] = COUNTY_2022

    outcome = refresh(sources=["census"])

    checks = {check["check_name"]: check for check in outcome["census"]["data_quality"]}
    income = checks["county median household income non-negative"]
    assert (income["rows_checked"], income["rows_complete"], income["rows_valid"]) == (5, 4, 4)
    assert checks["GEOID well formed (5 or 11 digits)"]["rows_valid"] == 5
