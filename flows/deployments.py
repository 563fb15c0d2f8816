"""The Prefect deployments of the `refresh` flow, served by `medmirror serve`.

- `refresh/daily`: the sources whose publishers change daily, incremental, every day at
  05:00 UTC.
- `refresh/monthly`: the sources published as releases (the Orange Book, ICD-10-CM,
  HCPCS, ...: each finds its newest release on its publisher's page) and FAERS's quarterly
  files (those FDA's page lists that have not landed), on the 1st and the 15th at 06:00
  UTC (FDA's day varies; a release landed already is skipped).
- `refresh/weekly-full`: every source pulled again from the start, Sundays at 07:00 UTC.
- `refresh/<source>`: one source, incremental, unscheduled (run it by hand).
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.refresh import refresh
from flows.sources import SOURCES, sources_refreshed, sources_with_listed_releases
from medmirror.settings import PROJECT_DIR

DAILY_CRON = "0 5 * * *"
MONTHLY_CRON = "0 6 1,15 * *"
WEEKLY_CRON = "0 7 * * 0"


def deployments() -> list[RunnerDeployment]:
    return [
        refresh.to_deployment(
            name="daily",
            cron=DAILY_CRON,
            parameters={"sources": sources_refreshed("daily"), "full": False},
            description="The daily sources, incremental, then dbt build.",
        ),
        refresh.to_deployment(
            name="monthly",
            cron=MONTHLY_CRON,
            parameters={"sources": monthly_sources(), "full": False, "quarters": True},
            description=(
                "The newest releases and FAERS's quarterly files not landed yet, found on "
                "their publishers' pages, then dbt build."
            ),
        ),
        refresh.to_deployment(
            name="weekly-full",
            cron=WEEKLY_CRON,
            parameters={"full": True},
            description="Every source pulled again from its start date, then dbt build.",
        ),
        *(
            refresh.to_deployment(
                name=name,
                parameters={"sources": [name]},
                description=f"{name} only, incremental, then dbt build of what it feeds.",
            )
            for name in SOURCES
        ),
    ]


def monthly_sources() -> list[str]:
    """The monthly releases, then the sources whose listed release files (FAERS quarters)
    the monthly run lands."""
    monthly = sources_refreshed("monthly")
    return monthly + [name for name in sources_with_listed_releases() if name not in monthly]


def serve_deployments() -> None:
    """Register the deployments and run their flow runs until interrupted.

    Prefect loads the flow of each run from its file relative to the working folder, so
    serving happens from the project folder whatever folder it was started in.
    """
    os.chdir(PROJECT_DIR)
    serve(*deployments())
