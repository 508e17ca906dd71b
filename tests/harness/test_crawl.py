"""The crawler: which links and forms count as routes, and how far it goes."""

import requests

from harness.client import HtmlPage
from harness.crawl import Route, crawl, routes_on

ORIGIN = "http://localhost:1"

SITE = {
    "/start/": """
        <a href="/">Home</a>
        <a href="/manage/a/#section">A</a>
        <a href="b">B, relative</a>
        <a href="https://elsewhere.example/x">another site</a>
        <a href="mailto:someone@example.com">mail</a>
        <form method="POST" action="/manage/remove">
          <input type="hidden" name="csrf_token" value="tok">
          <input type="password" name="confirm_password">
          <input type="submit" value="Remove">
        </form>
        <form method="POST" data-validate-url="/manage/by-script">
          <button type="button" name="csrf_token" value="tok">Only a script sends this</button>
        </form>
        <form action="/search"><input name="q" value="x"><button>Go</button></form>
    """,
    "/manage/a/": '<a href="/manage/deep/">deeper</a><a href="/start/">back</a>',
    "/start/b": "<p>no links</p>",
    "/": '<a href="/manage/from-home/">from home</a>',
    "/manage/deep/": '<a href="/manage/deepest/">deepest</a>',
}


class FakeSite:
    origin = ORIGIN

    def __init__(self) -> None:
        self.opened: list[str] = []

    def get(self, path: str) -> HtmlPage:
        self.opened.append(path)
        response = requests.Response()
        response.status_code, response.url = 200, ORIGIN + path
        response._content = SITE.get(path, "").encode()
        response.encoding = "utf-8"
        return HtmlPage(response)


def test_same_origin_links_and_submittable_forms_are_routes() -> None:
    routes = routes_on(FakeSite().get("/start/"), ORIGIN)
    assert routes == [
        Route("GET", "/"),
        Route("GET", "/manage/a/"),
        Route("GET", "/start/b"),
        Route("POST", "/manage/remove", (("csrf_token", "tok"), ("confirm_password", ""))),
        Route("GET", "/search?q=x"),
    ]


def test_pages_one_link_away_are_opened_and_their_routes_listed() -> None:
    site = FakeSite()
    found = crawl(site, ["/start/"], within=lambda path: path.startswith(("/start/", "/manage/")))
    assert site.opened == ["/start/", "/manage/a/", "/start/b"]
    assert [route.path for route in found.routes] == [
        "/start/",
        "/manage/a/",
        "/start/b",
        "/manage/remove",
        "/manage/deep/",
    ]
    assert set(found.pages) == set(site.opened)


def test_depth_zero_opens_only_the_start_pages() -> None:
    site = FakeSite()
    found = crawl(site, ["/manage/a/"], depth=0)
    assert site.opened == ["/manage/a/"]
    assert Route("GET", "/manage/deep/") in found.routes


def test_routes_outside_are_neither_listed_nor_opened() -> None:
    site = FakeSite()
    found = crawl(site, ["/start/"], within=lambda path: path != "/")
    assert "/" not in site.opened
    assert Route("GET", "/") not in found.routes
    assert Route("GET", "/manage/from-home/") not in found.routes
