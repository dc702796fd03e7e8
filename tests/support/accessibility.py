"""axe-core in Chromium: inject axe.min.js (the npm package, installed into var/node by ensure_packages.sh)
and return the violations that matter.

The page's context must be created with ``bypass_csp=True``: our pages allow only their own scripts.
"""

from __future__ import annotations

import subprocess
from typing import Any

from playwright.async_api import Page

from bot.settings import PROJECT_ROOT
from tests.support.browser import ENSURE_PACKAGES

AXE_SCRIPT = PROJECT_ROOT / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def ensure_axe() -> str:
    """The path of axe.min.js, installing the npm package via ``ensure_packages.sh`` when it is missing."""
    if not AXE_SCRIPT.exists():
        subprocess.run(["bash", str(ENSURE_PACKAGES)], check=True, stdin=subprocess.DEVNULL, timeout=900)
    return str(AXE_SCRIPT)


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe's WCAG 2.x A/AA violations of impact serious or critical on the page (open shadow roots too)."""
    await page.add_script_tag(path=ensure_axe())
    result = await page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    return [violation for violation in result["violations"] if violation["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation: rule, impact and the first offending elements."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
    )
