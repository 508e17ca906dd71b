"""Accessibility checks on a Playwright page: WCAG 2.1 A/AA through axe-core, reflow, keyboard.

Each check reads the page as it is now and returns plain data, so a scenario asserts on it and
the report shows it. Nothing here returns or attaches page text or typed values: axe-core's
results carry an HTML snippet of every node (``html``) and messages quoting the page
(``failureSummary``); both are dropped, and only the rule ids, impacts and CSS targets are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import allure
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page

WCAG_21_AA_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
"""axe-core's tags for the success criteria of WCAG 2.0 and 2.1, levels A and AA."""

SERIOUS_IMPACTS = frozenset({"serious", "critical"})
"""The impacts (axe-core: minor, moderate, serious, critical) a scenario fails on."""

AXE_OPTIONS: Mapping[str, Any] = {
    "runOnly": {"type": "tag", "values": list(WCAG_21_AA_TAGS)},
    "resultTypes": ["violations"],
}
"""axe.run's options: only the WCAG 2.1 A/AA rules, full details for violations only."""

KEPT_ATTRIBUTES = frozenset({"name", "type", "role", "for", "lang", "scope", "autocomplete"})
"""Attributes whose values a target keeps: they name the page's structure, never its data."""

_ATTRIBUTE_SELECTOR = re.compile(r'\[([^\s~|^$*=\]]+)([~|^$*]?=)"(?:[^"\\]|\\.)*"\]')
"""An attribute selector with a quoted value, as axe-core writes them (``[value="…"]``)."""

TAB_STOPS_LIMIT = 100
"""Tab presses ``tab_stops`` makes at most, so that a focus trap cannot hang a scenario."""

_DESCRIBE = """element => {
    if (!element || element === document.body || element === document.documentElement) {
        return null;
    }
    let text = element.tagName.toLowerCase();
    if (element.id) text += "#" + element.id;
    const name = element.getAttribute("name");
    if (name) text += "[name=" + name + "]";
    if (text === element.tagName.toLowerCase() && element.getAttribute("type")) {
        text += "[type=" + element.getAttribute("type") + "]";
    }
    return text;
}"""
"""The description of one element: ``tag#id[name=…]``; ``tag[type=…]`` when it has neither id
nor name (an unnamed submit button), and the bare tag otherwise. Never its text or value."""

_START_AT_TOP = """() => {
    window.scrollTo(0, 0);
    const start = document.createElement("span");
    start.tabIndex = -1;
    start.setAttribute("data-harness-tab-start", "");
    document.body.prepend(start);
    start.focus();
    window.__harnessTabStops = [];
}"""
"""Put the sequential focus navigation starting point at the top of the body: focus a
temporary element that is not itself a tab stop (``tabindex=-1``), so the next Tab reaches
the page's first tab stop, whatever has ``autofocus``."""

_FORGET_START = """() => {
    document.querySelectorAll("[data-harness-tab-start]").forEach(start => start.remove());
}"""
"""Remove the element ``start_at_top`` put in the page, once a Tab has left it."""

_STEP = f"""() => {{
    ({_FORGET_START})();
    const element = document.activeElement;
    const describe = {_DESCRIBE};
    const description = describe(element);
    if (description === null || !document.hasFocus()) return {{left: true}};
    const seen = window.__harnessTabStops.includes(element);
    window.__harnessTabStops.push(element);
    return {{left: false, seen, description}};
}}"""
"""After one Tab: whether focus left the document, came back to an element already met, and
the focused element's description."""

_FOCUS_INDICATOR = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return false;
    const style = getComputedStyle(element);
    const transparent = color => color === "transparent" || /rgba\\(.*,\\s*0\\)$/.test(color);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
        && !transparent(style.outlineColor);
    const shadow = style.boxShadow !== "none" && style.boxShadow !== "";
    return outline || shadow;
}"""
"""Whether the focused element draws a focus indicator: an outline (style not ``none``, width
above 0, not transparent) or a box shadow."""


_ANNOUNCED = """element => element.closest(
    '[role~="alert"], [role~="status"], [aria-live]:not([aria-live="off"])'
) !== null"""
"""Whether the element is in a live region: ``role=alert``/``status`` or ``aria-live``."""


@dataclass(frozen=True)
class Violation:
    """One axe-core rule the page breaks, and where.

    :param rule_id: axe-core's rule id, e.g. ``label`` or ``color-contrast``.
    :param impact: ``minor``, ``moderate``, ``serious`` or ``critical``.
    :param help: the rule's one-line help text (axe-core's, never the page's).
    :param help_url: the rule's page on Deque University.
    :param targets: a CSS selector for each node that breaks the rule; a node inside a frame or a
        shadow root is its selectors joined with ``" >>> "``. axe-core builds selectors from
        short attribute values too (a ``value``, an ``href``); those of attributes other than
        ``KEPT_ATTRIBUTES`` are replaced by ``…``, since they may be typed or secret data.
    """

    rule_id: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    @classmethod
    def from_axe(cls, result: Mapping[str, Any]) -> Violation:
        """The violation from one entry of axe-core's ``violations``; its nodes' ``html``
        snippets and ``failureSummary`` messages (page content) are not read."""
        return cls(
            rule_id=str(result["id"]),
            impact=str(result.get("impact") or "unknown"),
            help=str(result.get("help", "")),
            help_url=str(result.get("helpUrl", "")),
            targets=tuple(_target(node.get("target", [])) for node in result.get("nodes", [])),
        )

    def __str__(self) -> str:
        return f"{self.rule_id} ({self.impact}): {', '.join(self.targets)}"


def axe_violations(page: Page) -> list[Violation]:
    """Run axe-core (bundled with axe-playwright-python) on the page as it is now, with the
    WCAG 2.1 A/AA rules only (``WCAG_21_AA_TAGS``).

    :return: every violation, whatever its impact, in axe-core's order.
    """
    results = Axe().run(page, options=dict(AXE_OPTIONS))
    return [Violation.from_axe(result) for result in results.response["violations"]]


def serious(violations: Iterable[Violation]) -> list[Violation]:
    """The violations whose impact is ``serious`` or ``critical``."""
    return [violation for violation in violations if violation.impact in SERIOUS_IMPACTS]


def describe_violations(violations: Sequence[Violation]) -> str:
    """One line per violation, ``rule (impact): targets``, for an assertion's message."""
    return "\n".join(f"  {violation}" for violation in violations) or "  (none)"


def attach_axe_results(page_name: str, violations: Sequence[Violation]) -> None:
    """Attach the page's axe-core results to the Allure report as JSON, named
    ``axe-core: <page_name>``: the tags run and each violation's rule id, impact, help text,
    help URL and targets. Call it for every page scanned, clean or not."""
    document = {
        "page": page_name,
        "tags": list(WCAG_21_AA_TAGS),
        "violations": [asdict(violation) for violation in violations],
    }
    allure.attach(
        json.dumps(document, indent=2),
        name=f"axe-core: {page_name}",
        attachment_type=allure.attachment_type.JSON,
    )


def overflows_horizontally(page: Page) -> bool:
    """Whether the document is wider than the viewport, so reading it needs horizontal
    scrolling (WCAG 2.1 SC 1.4.10 at a 320 CSS px wide viewport)."""
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
    )


def start_at_top(page: Page) -> None:
    """Scroll to the top and move the keyboard's starting point there, so that the next Tab
    focuses the page's first tab stop, whatever has focus or ``autofocus`` now. The temporary
    element that marks the point (``tabindex=-1``, never a tab stop) goes with that Tab."""
    page.evaluate(_START_AT_TOP)


def tab_stops(page: Page, limit: int = TAB_STOPS_LIMIT) -> list[str]:
    """Press Tab from the top of the page and describe each element that takes focus
    (``tag#id[name=…]``, see ``describe``), until focus comes back to an element already met or
    leaves the document; at most ``limit`` presses. The page keeps the focus the last press
    left.

    :return: the descriptions in tab order, each element once.
    """
    start_at_top(page)
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        step = page.evaluate(_STEP)
        if step["left"] or step["seen"]:
            break
        stops.append(step["description"])
    return stops


def tab_to(page: Page, target: Locator, limit: int = TAB_STOPS_LIMIT) -> bool:
    """Press Tab, from wherever focus is now, until ``target`` has focus; at most ``limit``
    presses, none if it has focus already.

    :return: whether ``target`` got focus.
    """
    for presses in range(limit + 1):
        if target.evaluate("element => element === document.activeElement"):
            return True
        if presses < limit:
            page.keyboard.press("Tab")
            page.evaluate(_FORGET_START)
    return False


def is_announced(target: Locator) -> bool:
    """Whether assistive technology announces ``target`` when it appears: it is inside (or is)
    an element with ``role=alert`` or ``role=status`` (live regions by their role), or with
    ``aria-live`` other than ``off``."""
    return bool(target.evaluate(_ANNOUNCED))


def describe(locator: Locator) -> str:
    """The description ``tab_stops`` gives the element ``locator`` finds, to look it up there."""
    return str(locator.evaluate(_DESCRIBE))


def focus_is_visible(page: Page) -> bool:
    """Whether the focused element is visibly marked: an outline or a box shadow in its computed
    style. Styles often draw the indicator for ``:focus-visible`` only, so focus the element
    from the keyboard (Tab, as ``tab_stops`` does) before asking; a mouse click would not match.
    """
    return bool(page.evaluate(_FOCUS_INDICATOR))


def _target(selectors: Sequence[Any]) -> str:
    """One node's CSS target: axe-core gives a list, with a nested list per shadow root; the
    values of attributes not in ``KEPT_ATTRIBUTES`` are replaced by ``…``."""
    joined = " >>> ".join(
        " ".join(str(part) for part in selector) if isinstance(selector, list) else str(selector)
        for selector in selectors
    )
    return _ATTRIBUTE_SELECTOR.sub(_hide_attribute_value, joined)


def _hide_attribute_value(match: re.Match[str]) -> str:
    name, operator = match.group(1), match.group(2)
    return match.group(0) if name in KEPT_ATTRIBUTES else f'[{name}{operator}"…"]'
