"""Flows: the Prefect `refresh` flow, its deployments, and the `medmirror` command line.

Flows call `extract` and dbt; nothing below imports from here.
"""

import os

from medmirror.files import ensure_data_dir, keep_private, make_private_dirs
from medmirror.settings import load_settings

# Everything a medmirror command writes (its data folder, Prefect's database, dlt's and
# dbt's files) is readable by its user only: folders 0700, files 0600.
keep_private()

# Prefect reads these when it is imported: keep its files in medmirror's data folder and
# send nothing anywhere. A user's own settings win.
if "PREFECT_HOME" not in os.environ:
    _settings = load_settings()
    ensure_data_dir(_settings.data_dir, for_embedded_server=_settings.uses_embedded_db)
    make_private_dirs(_settings.prefect_dir)  # Prefect makes only the last folder
    os.environ["PREFECT_HOME"] = str(_settings.prefect_dir)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary API server a command starts can take over Prefect's 20 s on a busy
# machine (seen in CI): give it longer rather than fail the command.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
