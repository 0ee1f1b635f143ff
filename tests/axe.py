"""axe-core (Deque's accessibility engine) in a page driven by Playwright: the WCAG 2.0 and 2.1
rules at levels A and AA. axe.min.js comes with the dev dependency ``axe-playwright-python``, so
a fresh clone needs nothing but ``make``."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def axe_violations(page: Any) -> list[str]:
    """Each violation as "rule: help (where)"; an empty list when axe finds nothing."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = await Axe().run(page, options=options)
    return [
        f"{violation['id']}: {violation['help']} "
        f"({[node['target'] for node in violation['nodes']][:5]})"
        for violation in results.response["violations"]
    ]
