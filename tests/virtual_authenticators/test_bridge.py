"""The page bridge: origins from the frame, credentials the page can use, DOMException errors."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from virtual_authenticators.bridge import PageBridge, frame_origin
from virtual_authenticators.soft import SoftKey

ORIGIN = "https://rp.example:8443"

CREATE = """async () => {
  const credential = await navigator.credentials.create({publicKey: {
    rp: {id: "rp.example", name: "RP"},
    user: {id: new Uint8Array([1, 2, 3]), name: "u", displayName: "U"},
    challenge: new Uint8Array(16).fill(7),
    pubKeyCredParams: [{type: "public-key", alg: -7}],
  }});
  return {
    id: credential.id,
    rawIdBytes: credential.rawId.byteLength,
    attestationBytes: credential.response.attestationObject.byteLength,
    clientData: JSON.parse(new TextDecoder().decode(credential.response.clientDataJSON)),
    json: credential.toJSON(),
    extensions: credential.getClientExtensionResults(),
    hasPublicKeyCredential: typeof PublicKeyCredential === "function",
  };
}"""

GET = """async (id) => {
  try {
    const credential = await navigator.credentials.get({publicKey: {
      challenge: new Uint8Array(16).fill(9), rpId: "rp.example",
      allowCredentials: id ? [{type: "public-key", id: Uint8Array.from(
        atob(id.replace(/-/g, "+").replace(/_/g, "/")), c => c.charCodeAt(0))}] : [],
    }});
    return {ok: credential.response.signature.byteLength > 0, id: credential.id};
  } catch (error) {
    return {name: error.name, isDOMException: error instanceof DOMException};
  }
}"""


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://localhost:8000/account/login/?x=1", "http://localhost:8000"),
        ("https://Example.ORG:443/path", "https://example.org"),
        ("http://127.0.0.1/", "http://127.0.0.1"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
    ],
)
def test_frame_origin(url: str, origin: str) -> None:
    assert frame_origin(url) == origin


@pytest.mark.parametrize("url", ["about:blank", "data:text/html,x", "file:///tmp/x.html"])
def test_opaque_origins_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        frame_origin(url)


@pytest.fixture
def bridged(browser: Browser) -> Iterator[tuple[Page, PageBridge]]:
    """A page at :data:`ORIGIN` (served by a route) with a :class:`SoftKey` bridged in.

    The context comes from ``browser``, not pytest-playwright's ``new_context``: that one's
    session-wide arguments would pin a ``base_url`` of ``None`` for the scenarios run later.
    """
    context = browser.new_context()
    context.route(
        f"{ORIGIN}/**",
        lambda route: route.fulfill(body="<p>rp</p>", content_type="text/html"),
    )
    bridge = PageBridge(context, SoftKey())
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{ORIGIN}/page")
    yield page, bridge
    context.close()


def test_create_and_get_go_through_the_python_key(bridged: tuple[Page, PageBridge]) -> None:
    page, bridge = bridged
    made = page.evaluate(CREATE)
    assert made["hasPublicKeyCredential"]
    assert made["rawIdBytes"] > 0 and made["attestationBytes"] > 0
    assert made["clientData"]["origin"] == ORIGIN
    assert made["clientData"]["type"] == "webauthn.create"
    assert made["json"]["id"] == made["id"]
    assert made["extensions"] == {}
    assert [(c.ceremony, c.origin) for c in bridge.calls] == [("create", ORIGIN)]
    assert bridge.calls[0].options["challenge"] == "BwcHBwcHBwcHBwcHBwcHBw"

    assert page.evaluate(GET, made["id"]) == {"ok": True, "id": made["id"]}


def test_authenticator_errors_reject_with_their_dom_name(
    bridged: tuple[Page, PageBridge],
) -> None:
    page, _ = bridged
    assert page.evaluate(GET, None) == {"name": "NotAllowedError", "isDOMException": True}


def test_the_origin_comes_from_the_frame_not_from_page_script(
    bridged: tuple[Page, PageBridge],
) -> None:
    page, bridge = bridged
    page.evaluate("history.replaceState(null, '', '/elsewhere')")
    page.evaluate(
        """() => window.__harnessWebAuthn("get", {challenge: "AA", origin: "https://evil.example"})"""
    )
    assert bridge.calls[-1].origin == ORIGIN
