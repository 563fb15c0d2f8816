"""Flows: the Prefect `refresh` flow, its deployments, and the `medmirror` command line.

Flows call `extract` and dbt; nothing below imports from here.
"""

import os

from medmirror.settings import load_settings

# Prefect reads these when it is imported: keep its files in medmirror's data folder and
# send nothing anywhere. A user's own settings win.
if "PREFECT_HOME" not in os.environ:
    prefect_home = load_settings().prefect_dir
    prefect_home.mkdir(parents=True, exist_ok=True)  # Prefect makes only the last folder
    os.environ["PREFECT_HOME"] = str(prefect_home)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary API server a command starts can take over Prefect's 20 s on a busy
# machine (seen in CI): give it longer rather than fail the command.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
