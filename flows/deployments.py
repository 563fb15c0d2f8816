"""The Prefect deployments of the `refresh` flow, served by `medmirror serve`.

- `refresh/daily`: the sources whose publishers change daily, incremental, every day at
  05:00 UTC.
- `refresh/monthly`: the sources published as monthly releases (the Orange Book), on the
  1st and the 15th at 06:00 UTC (FDA's day varies; an unchanged release is skipped).
- `refresh/weekly-full`: every source pulled again from the start, Sundays at 07:00 UTC.
- `refresh/<source>`: one source, incremental, unscheduled (run it by hand).
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.refresh import refresh
from flows.sources import SOURCES, sources_refreshed
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
            parameters={"sources": sources_refreshed("monthly"), "full": False},
            description="The monthly releases (skipped when unchanged), then dbt build.",
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


def serve_deployments() -> None:
    """Register the deployments and run their flow runs until interrupted.

    Prefect loads the flow of each run from its file relative to the working folder, so
    serving happens from the project folder whatever folder it was started in.
    """
    os.chdir(PROJECT_DIR)
    serve(*deployments())
