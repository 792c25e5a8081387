"""Test helpers for personal-data protection: running the relay's own jobs on a relay's
database, as its scheduler would, at a moved clock (docs/protection.md "When it goes")."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

from relay import protection
from relay.protection.keyring import Keyring
from relay.store import protection as protection_store
from tests.support import RelayProcess

DEFAULTS = protection_store.JobSettings(mask_after_days=183, delete_after_days=1826,
                                        shred_on_mask=False, batch=100, pause_ratio=0.0)


async def run_jobs(dsn: str, now: datetime, settings: protection_store.JobSettings = DEFAULTS, *,
                   hold: str | None = None) -> protection_store.RunResult:
    """The relay's jobs on ``dsn`` as of ``now`` (holding the alert ``hold`` first, for
    3,000 days), with this process's installed key."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        if hold is not None:
            assert await protection_store.place_hold(
                pool, alert_id=hold, reason="investigation 2026/118",
                until=now + timedelta(days=3000), placed_by="tests")
        return await protection_store.run_jobs(pool, settings, now=now, run_by="tests")
    finally:
        await pool.close()


def key_file(relay: RelayProcess) -> Path:
    """The relay's protection key file: the one its environment names, else its data
    directory's (protection.md "At rest")."""
    env = relay.env()
    return Path(env.get("RELAY_PROTECTION_KEY_FILE") or Path(env["RELAY_DATA_DIR"]) / "protection.key")


async def age(relay: RelayProcess, now: datetime, *, hold: str | None = None) -> datetime:
    """The relay's jobs as of ``now``, with the relay's own key file; ``now``."""
    protection.install(Keyring.open(key_file(relay)))
    await run_jobs(relay.dsn, now, hold=hold)
    return now
