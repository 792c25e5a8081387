"""Screenshots of every view of the console, in English and in French, at 1366×768 and
390×844, into docs/console/ (``VIEW-LANGUAGE-WIDTHxHEIGHT.png``).

Run from the repository root:  ``.venv/bin/python bench/console_screenshots.py``  (about a
minute). It starts an embedded PostgreSQL and a relay of its own, adds the units and
alerts of tests/console_support.py's ``seed_console``, and walks the views as
tests/test_console_a11y.py audits them (``visit_views``), in Debian's Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.console_stack import console_stack  # noqa: E402
from tests.console_support import (  # noqa: E402
    DESKTOP,
    PHONE,
    REGIONS,
    chromium,
    new_page,
    seed_console,
    visit_views,
)

LOCALES = {"en": "en-GB", "fr": "fr-FR"}


async def shoot(out: Path) -> list[Path]:
    made = []
    async with console_stack(REGIONS) as (relay, dsn), chromium() as (_, browser):
        tokens = await seed_console(relay, dsn)
        for language, locale in LOCALES.items():
            for viewport in (DESKTOP, PHONE):
                context, page = await new_page(browser, language=locale, viewport=viewport)
                try:
                    async for view in visit_views(page, relay, tokens):
                        path = out / f"{view}-{language}-{viewport['width']}x{viewport['height']}.png"
                        await page.screenshot(path=path, animations="disabled", caret="hide")
                        made.append(path)
                    if page.console_errors:  # type: ignore[attr-defined]
                        raise RuntimeError(f"the console failed: {page.console_errors}")  # type: ignore[attr-defined]
                finally:
                    await context.close()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.out)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
