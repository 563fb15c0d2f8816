"""Files and folders medmirror writes: private to the user who runs it.

Folders are created 0700 and files 0600 (every medmirror command also runs with umask
077, so what dlt, dbt and Prefect write under the data folder is private too). A secret is
written to a new file, readable only by its owner from the moment it exists, then renamed
over the old one: never rewritten in place under the old file's mode, never through a
symbolic link.

Run as root, the embedded PostgreSQL runs as a system user (`SYSTEM_USER`, since initdb
refuses root). It needs to pass through the folders above its own: medmirror gives that
right (execute only, through the folder's group) on the data folder it creates itself,
and never changes a folder it did not create.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

SYSTEM_USER = "embedded_postgres"
PRIVATE_UMASK = 0o077


def keep_private() -> None:
    """From now on this process creates files 0600 and folders 0700."""
    os.umask(PRIVATE_UMASK)


def make_private_dirs(folder: Path) -> list[Path]:
    """Create `folder` and the folders missing above it, each 0700; the folders created,
    outermost first (an existing folder is left as it is)."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    created = []
    for candidate in reversed(missing):
        try:
            candidate.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            continue
        candidate.chmod(0o700)  # whatever the umask
        created.append(candidate)
    return created


def ensure_data_dir(data_dir: Path, *, for_embedded_server: bool) -> Path:
    """medmirror's data folder, created 0700 if it is not there. Run as root for the
    embedded PostgreSQL, a folder created here also lets the server's system user pass
    through (group: that user's, mode 0710): the user is created if needed."""
    created = make_private_dirs(data_dir)
    if created and for_embedded_server and os.geteuid() == 0:
        _, gid = server_user()
        for folder in created:
            os.chown(folder, 0, gid)
            folder.chmod(0o710)
    return data_dir


def server_user() -> tuple[int, int]:
    """The uid and gid of the system user the embedded PostgreSQL runs as under root
    (created the first time)."""
    import pwd

    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", SYSTEM_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable only by its owner: a new file (0600 from its
    creation, never through a link) in the same folder, renamed over `path`."""
    make_private_dirs(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
