"""What a session can reach: the links and forms of a few pages and of the pages they link to.

Scenarios that must hold on every route (a session after the password step alone is refused
everywhere, no page shows a secret) enumerate the routes with :func:`crawl` instead of naming
them, so that a route the index adds is checked too. Only same-origin links and forms a person
can submit count; the crawler never follows a redirect and never posts anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from bs4 import Tag

from harness.client import HtmlPage

SUBMIT_CONTROLS = "input[type=submit], input[type=image], button[type=submit], button:not([type])"


class Browsing(Protocol):
    """What the crawler needs of a session: :class:`~harness.client.IndexClient` has it."""

    @property
    def origin(self) -> str: ...

    def get(self, path: str) -> HtmlPage: ...


@dataclass(frozen=True)
class Route:
    """One request a page lets a person make: following a link, or submitting a form.

    :param method: ``GET`` or ``POST``.
    :param path: the path and query on the target.
    :param fields: the form's values as the page would submit them unchanged (its CSRF token
        included); none for a link. Kept out of the repr: they may carry tokens.
    """

    method: str
    path: str
    fields: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass
class Crawl:
    """What :func:`crawl` found.

    :param pages: each page it opened, by path, as it answered (a redirect is not followed).
    :param routes: every route on those pages, the start pages' own first, each once.
    """

    pages: dict[str, HtmlPage]
    routes: list[Route]


def routes_on(page: HtmlPage, origin: str) -> list[Route]:
    """The same-origin links of ``page`` and the forms on it a person can submit, in page order.

    A form counts when it has a submit control (a form only a script sends, such as the
    security-key form, does not); a GET form is the link its values make.

    :param origin: ``scheme://host[:port]`` of the target; links elsewhere are left out.
    """
    routes: list[Route] = []
    for element in page.select("a[href], form"):
        if element.name == "a":
            path = _same_origin_path(urljoin(page.url, str(element["href"])), origin)
            route = Route("GET", path) if path else None
        else:
            route = _form_route(page, element, origin)
        if route is not None and route not in routes:
            routes.append(route)
    return routes


def crawl(
    client: Browsing,
    starts: Iterable[str],
    *,
    within: Callable[[str], bool] = lambda path: True,
    depth: int = 1,
) -> Crawl:
    """Open ``starts``, then the pages their links lead to, ``depth`` links deep.

    :param within: which paths count: a route whose path it refuses is neither listed nor
        opened (keep out what must not be followed, such as public pages).
    :param depth: how many links away from a start page a page is still opened; the routes
        on the last pages opened are listed, not opened.
    """
    pages: dict[str, HtmlPage] = {}
    found: list[Route] = [Route("GET", path) for path in starts]
    to_open = [route.path for route in found]
    for level in range(depth + 1):
        linked: list[str] = []
        for path in to_open:
            if path in pages:
                continue
            pages[path] = client.get(path)
            for route in routes_on(pages[path], client.origin):
                if route in found or not within(route.path):
                    continue
                found.append(route)
                if route.method == "GET" and level < depth:
                    linked.append(route.path)
        to_open = linked
    return Crawl(pages, found)


def _form_route(page: HtmlPage, form: Tag, origin: str) -> Route | None:
    if form.select_one(SUBMIT_CONTROLS) is None:
        return None
    action, values = page.submission(form)
    path = _same_origin_path(action, origin)
    if not path:
        return None
    if str(form.get("method", "get")).upper() != "POST":
        query = urlencode(values)
        return Route("GET", f"{path}{'&' if '?' in path else '?'}{query}" if query else path)
    return Route("POST", path, tuple(values.items()))


def _same_origin_path(url: str, origin: str) -> str:
    """The path and query of ``url`` when it is on ``origin``, else ""."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")
