"""Extract: one dlt source per publisher, landing raw records in `raw_<source>`.

What every source shares lives here once: the HTTP client (`http`), the bulk-file
opener (`bulk`), the raw landing contract and the windowed runner (`landing`), and the
errors a run can end with (`errors`). Nothing here imports from `flows` or dbt.
"""

import os

from medmirror.settings import PROJECT_DIR

# dlt reads `.dlt/config.toml` from its project folder, which is the current directory
# unless told otherwise: medmirror's commands run from anywhere.
os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_DIR))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
