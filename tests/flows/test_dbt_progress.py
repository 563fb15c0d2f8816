"""dbt's console folded: one summary line per command, each node a progress record that
`medmirror` shows as one line updating in place on a terminal (flows/progress_line.py)."""

from __future__ import annotations

import io
import logging
import re

from rich.console import Console

from flows.dbt_runner import progress_log, run_dbt, unbuilt_parents
from flows.progress_line import progress_line
from medmirror.settings import load_settings


def test_each_node_is_a_progress_record_and_the_command_one_line(
    database, caplog, capfd, monkeypatch
):
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # dbt's default (the suite's is none)
    caplog.set_level(logging.DEBUG, logger="flows.dbt_runner")

    run_dbt(["build", "--select", "stg_hcpcs__codes+1"], database)

    records = [record for record in caplog.records if record.name == progress_log.name]
    assert len(records) > 3  # the models and their tests
    last = records[-1].dbt_progress
    assert last.done == last.total == len(records)
    assert last.failed == 0
    said = [r.getMessage() for r in caplog.records if r.name == "flows.dbt_runner"]
    log_file = load_settings().dbt_target_dir / "logs" / "dbt.log"
    assert said == [f"dbt build: {last.done} nodes, 0 failed (full log: {log_file})"]
    assert "stg_hcpcs__codes" in log_file.read_text()  # the full log keeps every line
    printed = capfd.readouterr().out
    assert "START sql" not in printed and " of " not in printed  # no node lines


def test_dbt_ls_prints_nothing_it_is_read(database, capfd):
    assert unbuilt_parents(database, ["source:hcpcs+"]) == []
    assert capfd.readouterr().out == ""


def test_on_a_terminal_the_nodes_are_one_line_updated_in_place(database):
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)

    with progress_line(terminal, verbose=False):
        run_dbt(["build", "--select", "stg_hcpcs__codes"], database)

    shown = screen.getvalue()
    assert re.search(r"dbt build: (\d+)/\1 done", shown)  # every node, counted
    assert shown.count("\n") <= 1  # one line, redrawn in place (\r), then erased
    assert progress_log.handlers == [] and progress_log.propagate  # put back after
