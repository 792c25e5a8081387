"""How fast a new alert appears in the console's feed, with 10,000 alerts already in it.

Run from the repository root:  ``.venv/bin/python bench/console_latency.py``  (about a
minute; ``--alerts`` and ``--live`` to change the sizes). It starts an embedded PostgreSQL
and a relay of its own, publishes ``--alerts`` alerts to a partner unit, signs the
partner in in Debian's Chromium (the feed replays them), then publishes ``--live`` alerts
one at a time and measures, in the page:

- socket → in the feed: from the WebSocket ``message`` event carrying the alert (a
  listener the page's own script cannot run before, added by an init script that wraps
  ``WebSocket``) to the alert's card entering the feed (a MutationObserver);
- socket → drawn: to the next animation frame after that, when the card is painted;
- publish → drawn: from this script sending the publish frame (its clock and the page's
  are the same machine's) to the card painted, the relay's commit included.

The target (issue 11) is socket → drawn within 100 ms. Results are printed and written to
``bench/results/console_latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.console_stack import console_stack  # noqa: E402
from tests.console_support import chromium, new_page, passenger_alert, seed_alerts  # noqa: E402
from tests.support import create_unit, stream_client  # noqa: E402

CONFIG = """
[limits]
publish_per_second = 1000000.0
publish_burst = 1000000
"""
PARTNER, OFFICER = "FR-CDG-OFAST", "ML-BKO-JAITF"

# Runs in the page before its own scripts: timestamps on the page's clock (epoch ms).
PROBE = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const probe = window.__consoleProbe = {received: {}, shown: {}, drawn: {}};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const at = now();
        const head = typeof event.data === "string" ? event.data.slice(0, 40) : "";
        const match = /^\\{"type":"alert","seq":(\\d+)/.exec(head);
        if (match) probe.received[match[1]] = at;
      });
    }
  };
  new MutationObserver((records) => {
    const at = now();
    for (const record of records) for (const node of record.addedNodes) {
      if (node.nodeType === 1 && node.matches("#feed-list > article") && !(node.dataset.seq in probe.shown)) {
        const seq = node.dataset.seq;
        probe.shown[seq] = at;
        requestAnimationFrame(() => { probe.drawn[seq] = now(); });
      }
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95), "max": round(max(values), 1),
            "count": len(values)}


async def measure(alerts: int, live: int) -> dict[str, Any]:
    async with console_stack(CONFIG) as (relay, dsn), chromium() as (_, browser):
        _, officer = await create_unit(dsn, OFFICER, country="ML", roles="publish,subscribe")
        _, partner = await create_unit(dsn, PARTNER, country="FR", roles="subscribe")
        started = time.perf_counter()
        await seed_alerts(relay, officer, alerts, to=PARTNER)
        seeded = time.perf_counter() - started
        context, page = await new_page(browser)
        await context.add_init_script(PROBE)
        started = time.perf_counter()
        await page.goto(relay.http + "/")
        await page.locator("#token").fill(partner)
        await page.locator("#sign-in").click()
        total = f"{alerts:,}"
        await page.locator("#feed-summary", has_text=f"of {total},").wait_for(timeout=120_000)
        replayed = time.perf_counter() - started
        sent: dict[int, float] = {}
        async with stream_client(relay, officer) as client:
            for n in range(live):
                at = time.time() * 1000
                ack = await client.publish(passenger_alert(f"live alert {n}", units=[PARTNER]))
                sent[ack["seq"]] = at
                await page.wait_for_function("(seq) => seq in window.__consoleProbe.drawn", arg=str(ack["seq"]))
                await asyncio.sleep(0.1)
        probe = await page.evaluate("window.__consoleProbe")
        cards = await page.locator("#feed-list > article").count()
        await context.close()
    seqs = [str(seq) for seq in sent]
    return {
        "alerts_in_feed": alerts, "live_alerts": live, "cards_in_page": cards,
        "seed_seconds": round(seeded, 1), "sign_in_to_feed_full_seconds": round(replayed, 1),
        "socket_to_feed_ms": summary([probe["shown"][s] - probe["received"][s] for s in seqs]),
        "socket_to_drawn_ms": summary([probe["drawn"][s] - probe["received"][s] for s in seqs]),
        "publish_to_drawn_ms": summary([probe["drawn"][s] - sent[int(s)] for s in seqs]),
        "machine": f"{platform.machine()}, {platform.python_version()}, {platform.node()}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000, help="alerts in the feed before measuring")
    parser.add_argument("--live", type=int, default=50, help="alerts measured one at a time")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "console_latency.json")
    args = parser.parse_args()
    results = asyncio.run(measure(args.alerts, args.live))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
