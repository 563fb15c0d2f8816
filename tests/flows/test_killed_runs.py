"""A refresh killed with SIGKILL in each step, then run again, ends with exactly the marts
of a clean run: nothing lost, nothing twice.

The killed run is a child process that lands the real samples (bulk) or the replayed API
pages and builds the marts. A hook installed in the child only (never in medmirror's
code) makes one step hang at a chosen point and tells the test, which then kills the
child. The steps are killed one after the other, each in a run that starts from what the
killed run before it left (a window half landed, a load package not normalized or not
loaded, a build cut short); the last rerun is a plain, unhooked run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from flows.dbt_runner import build_sources
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import StudiesApi, json_response, land_source, query
from tests.extract.test_clinicaltrials import PAGE1, PAGE2_LAST
from tests.warehouses import Templates, environment, environment_for

SAMPLES = str(SAMPLES_DIR / "clinicaltrials")

CHILD = """
import importlib, os, sys, time
from pathlib import Path

def hang_here():
    Path(os.environ["HANG_MARKER"]).touch()
    time.sleep(600)

point = os.environ["HANG_AT"]
if point.startswith("dbt:"):
    # Hang once the named model has been built (dbt reports NodeFinished).
    import dbt.cli.main
    node = point.removeprefix("dbt:")
    original_init = dbt.cli.main.dbtRunner.__init__
    def on_event(event):
        if event.info.name == "NodeFinished" and event.data.node_info.node_name == node:
            hang_here()
    def with_callback(self, manifest=None, callbacks=None):
        original_init(self, manifest=manifest, callbacks=[*(callbacks or []), on_event])
    dbt.cli.main.dbtRunner.__init__ = with_callback
else:
    module_name, _, path = point.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    original = getattr(owner, name)
    calls = [0]
    def hanging(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(os.environ.get("HANG_ON_CALL", "1")):
            hang_here()
        return original(*args, **kwargs)
    setattr(owner, name, hanging)

import json
from extract.landing import land, pipeline_for
from flows.dbt_runner import build_sources
from flows.sources import spec_of
from medmirror.settings import load_settings
from medmirror.warehouse import resolve_connection
settings = load_settings()
connection = resolve_connection(settings)
spec = spec_of(os.environ["SOURCE"])
source_args = json.loads(os.environ["SOURCE_ARGS"])
source_args.setdefault("download_dir", str(settings.data_dir / "downloads"))
land(pipeline_for(spec.name, connection, settings.dlt_dir),
     lambda: spec.make_source(**source_args), tables=spec.tables)
build_sources(connection, [spec.name])
"""


def kill_child_when_it_hangs(
    hang_at: str,
    marker: Path,
    *,
    source: str = "clinicaltrials",
    source_args: dict | None = None,
    on_call: int = 1,
) -> None:
    """Run a refresh of `source` (its dlt source built with `source_args`, then the dbt
    build of what it feeds) in a child process; SIGKILL it when it reaches `hang_at` for the
    `on_call`-th time (`module:attribute.path`, or `dbt:<model>` once that model is built)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        env=dict(
            os.environ,
            HANG_AT=hang_at,
            HANG_MARKER=str(marker),
            HANG_ON_CALL=str(on_call),
            SOURCE=source,
            SOURCE_ARGS=json.dumps(source_args or {}),
        ),
    )
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert child.poll() is None, f"the child ended before reaching {hang_at}"
            assert time.monotonic() < deadline, f"the child never reached {hang_at}"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)


def kill_in_each_step(
    kills: Sequence[tuple[str, str, int]],
    markers: Path,
    *,
    before_each: Callable[[], None] = lambda: None,
    **child,
) -> None:
    """A refresh per `(step, hang_at, on_call)` of `kills`, in order, each killed there
    (`kill_child_when_it_hangs` with `child`'s arguments, `before_each` called before it
    starts): each resumes what the killed run before it left."""
    for step, hang_at, on_call in kills:
        before_each()
        kill_child_when_it_hangs(hang_at, markers / f"hanging-{step}", on_call=on_call, **child)


def each_step(
    extract: tuple[str, int] | None, built: str, *, normalize_call: int = 2
) -> list[tuple[str, str, int]]:
    """The kill points of a chain, in the order a refresh reaches them: the extract's
    `(hang_at, on_call)` (None: none), dlt's normalize (at its `normalize_call`-th call) and
    load, then the build once the model `built` is built."""
    steps = [] if extract is None else [("extract", *extract)]
    normalize = (*KILLED_IN_NORMALIZE[:2], normalize_call)
    return [*steps, normalize, KILLED_IN_LOAD, ("dbt build", f"dbt:{built}", 1)]


def marts(connection) -> dict[str, list[tuple]]:
    """What an analyst sees, without the load times (they differ from run to run)."""
    return {
        "trials": query(
            connection,
            "select nct_id, brief_title, overall_status, phase, conditions, "
            "intervention_names, last_update_post_date from marts.clinical_trials order by 1",
        ),
        "conditions": query(
            connection,
            "select trial_condition_id, condition_name from marts.trial_conditions order by 1",
        ),
        "interventions": query(
            connection,
            "select trial_intervention_id, intervention_name from marts.trial_interventions "
            "order by 1",
        ),
    }


def rerun(connection, **source_args) -> None:
    land_source(connection, "clinicaltrials", **source_args)
    build_sources(connection, ["clinicaltrials"])


def marts_of_a_clean_run(
    templates: Templates, name: str, run: Callable[[ConnectionInfo], None], read: Callable
) -> dict[str, list[tuple]]:
    """What `read` finds in the marts after `run` in a fresh warehouse (built once per test
    run, as template `tmpl_<name>`): the clean run a killed one is compared with."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{name}-"))

    def build(connection: ConnectionInfo) -> None:
        with environment(environment_for(connection, scratch)):
            run(connection)

    connection = templates.fresh(templates.ensure(f"tmpl_{name}", build, base="tmpl_empty"))
    return read(connection)


# Where a run is killed in dlt's normalize step (its second call: a window in) and, in the
# run after, in its load step (its first call: what the killed normalize left, loaded).
KILLED_IN_NORMALIZE = ("normalize", "dlt.normalize.normalize:Normalize.spool_files", 2)
KILLED_IN_LOAD = ("load", "dlt.destinations.impl.postgres.postgres:PostgresCsvCopyJob.run", 1)


@pytest.fixture(scope="module")
def clean_bulk_marts(templates):
    """The marts of one clean bulk run of the samples."""
    return marts_of_a_clean_run(
        templates, "clean_bulk", lambda connection: rerun(connection, bulk_location=SAMPLES), marts
    )


# Killed in the second window's extract, then in normalize and load, then in the build.
BULK_KILLS = each_step(("extract.bulk:BulkMember.read", 8), "int_studies_deduplicated")


@pytest.mark.long
def test_bulk_run_killed_in_each_step_then_rerun_equals_a_clean_run(
    database, clean_bulk_marts, tmp_path
):
    kill_in_each_step(
        BULK_KILLS,
        tmp_path,
        source_args={"bulk_location": SAMPLES, "bulk_studies_per_window": 5},
    )

    rerun(database, bulk_location=SAMPLES, bulk_studies_per_window=5)

    assert marts(database) == clean_bulk_marts


# Killed once the pages are fetched: in normalize (its first call: the run has one
# window), then in load, then in the build.
API_KILLS = each_step(None, "int_studies_deduplicated", normalize_call=1)


@pytest.mark.long
def test_api_run_killed_in_each_step_then_rerun_lands_every_study_once(
    database, studies_api: StudiesApi, tmp_path
):
    def serve_the_pages() -> None:
        # The publisher answers each run alike (what a killed run asked, the next asks again).
        studies_api.pages[:] = [json_response(PAGE1), json_response(PAGE2_LAST)]

    kill_in_each_step(API_KILLS, tmp_path, before_each=serve_the_pages)

    serve_the_pages()
    rerun(database)

    ((rows, distinct),) = query(
        database, "select count(*), count(distinct nct_id) from marts.clinical_trials"
    )
    assert (rows, distinct) == (10, 10)
    assert query(database, "select count(*) from marts.trial_conditions") == [
        (query(database, "select sum(cardinality(conditions)) from marts.clinical_trials")[0][0],)
    ]
