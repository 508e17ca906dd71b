"""Any Python :class:`~virtual_authenticators.base.Authenticator` behind every page of a context.

The bridge replaces ``navigator.credentials.create/get`` (``publicKey`` requests only) in every
page and frame of a Playwright ``BrowserContext``, in any browser, with functions that send the
options as JSON (binary values base64url without padding) to Python through a binding, and
build the credential the page expects from the authenticator's JSON answer:

- ``id``, ``rawId`` (ArrayBuffer), ``type``, ``authenticatorAttachment``;
- ``response`` with ArrayBuffer ``clientDataJSON`` and ``attestationObject`` (registration) or
  ``authenticatorData``, ``signature``, ``userHandle`` (assertion; ``null`` when absent), and
  ``getTransports()`` on registration;
- ``getClientExtensionResults()`` and ``toJSON()``, which returns (a copy of) the JSON answer.

An :class:`~virtual_authenticators.base.AuthenticatorError` rejects the page's promise with a
``DOMException`` named by its ``dom_name``; any other Python exception rejects it too, as an
``Error``. The origin handed to the authenticator is the calling frame's URL as Playwright
reports it (``scheme://host[:port]``), never anything the page's JavaScript says. Where the
browser has no ``PublicKeyCredential`` the bridge defines a stand-in so that pages enable their
security-key buttons.

The page's own ``navigator.credentials`` code is bypassed: keep one scenario per flow on a
browser-level authenticator (:mod:`virtual_authenticators.cdp`) too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext

from virtual_authenticators.base import Authenticator, AuthenticatorError

BINDING = "__harnessWebAuthn"
"""The name of the binding the init script calls (one bridge per context)."""

INIT_SCRIPT = """
(() => {
  "use strict";
  const BINDING = "__harnessWebAuthn";
  if (window.__harnessWebAuthnInstalled) return;
  Object.defineProperty(window, "__harnessWebAuthnInstalled", { value: true });

  const toB64url = (data) => {
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let raw = "";
    for (let i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  };
  const fromB64url = (text) => {
    let b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "===".slice((b64.length + 3) % 4);
    const raw = atob(b64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  };
  // Options as their JSON form: binary values base64url, functions and undefined dropped.
  const toJSONForm = (value) => {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return toB64url(value);
    if (Array.isArray(value)) return value.map(toJSONForm);
    if (value && typeof value === "object") {
      const out = {};
      for (const key of Object.keys(value)) {
        const item = value[key];
        if (item !== undefined && typeof item !== "function" && key !== "signal") {
          out[key] = toJSONForm(item);
        }
      }
      return out;
    }
    return value;
  };
  const buffer = (text) => (typeof text === "string" ? fromB64url(text) : null);

  const credentialFrom = (json) => {
    const copy = () => JSON.parse(JSON.stringify(json));
    const r = json.response || {};
    const response = { clientDataJSON: buffer(r.clientDataJSON) };
    if (r.attestationObject !== undefined) {
      response.attestationObject = buffer(r.attestationObject);
      response.getTransports = () => (r.transports || []).slice();
    } else {
      response.authenticatorData = buffer(r.authenticatorData);
      response.signature = buffer(r.signature);
      response.userHandle = buffer(r.userHandle);
    }
    return Object.freeze({
      id: json.id,
      rawId: buffer(json.rawId),
      type: json.type,
      authenticatorAttachment: json.authenticatorAttachment || null,
      response: Object.freeze(response),
      getClientExtensionResults: () => copy().clientExtensionResults || {},
      toJSON: copy,
    });
  };

  const ask = (ceremony, options) => {
    const signal = options && options.signal;
    if (signal && signal.aborted) {
      return Promise.reject(new DOMException("The operation was aborted.", "AbortError"));
    }
    const call = window[BINDING](ceremony, toJSONForm(options.publicKey)).then((answer) => {
      if (answer.error) throw new DOMException(answer.error.message, answer.error.name);
      return credentialFrom(answer.credential);
    });
    if (!signal) return call;
    return Promise.race([call, new Promise((_resolve, reject) => {
      signal.addEventListener("abort", () => {
        reject(new DOMException("The operation was aborted.", "AbortError"));
      }, { once: true });
    })]);
  };

  let container = navigator.credentials;
  if (!container) {
    container = {};
    Object.defineProperty(Navigator.prototype, "credentials", {
      configurable: true, enumerable: true, get: () => container,
    });
  }
  for (const ceremony of ["create", "get"]) {
    const original = typeof container[ceremony] === "function"
      ? container[ceremony].bind(container) : null;
    Object.defineProperty(container, ceremony, {
      configurable: true, writable: true,
      value: function (options) {
        if (options && options.publicKey) return ask(ceremony, options);
        if (original) return original(options);
        return Promise.reject(new DOMException("Only publicKey credentials.", "NotSupportedError"));
      },
    });
  }

  if (typeof window.PublicKeyCredential !== "function") {
    class PublicKeyCredential {
      constructor() { throw new TypeError("Illegal constructor"); }
      static isUserVerifyingPlatformAuthenticatorAvailable() { return Promise.resolve(false); }
      static isConditionalMediationAvailable() { return Promise.resolve(false); }
    }
    Object.defineProperty(window, "PublicKeyCredential", {
      configurable: true, writable: true, value: PublicKeyCredential,
    });
  }
})();
"""
"""Installed in every page and frame of the context before the page's own scripts run."""


@dataclass(frozen=True)
class BridgedCall:
    """One request the bridge passed to the authenticator, as it was passed."""

    ceremony: str
    """``create`` or ``get``."""
    origin: str
    options: dict[str, Any]


@dataclass
class PageBridge:
    """Serve ``authenticator`` to every page of ``context``; it is installed on construction.

    ``authenticator`` may be swapped later (the next request goes to the new one). Every request
    is recorded in :attr:`calls`. A context takes one bridge: a second raises Playwright's error
    for a binding registered twice.

    :param context: the browser context; its pages opened before the bridge keep the browser's
        own ``navigator.credentials`` until they navigate.
    :param authenticator: answers ``create``/``get`` with ``RegistrationResponseJSON`` /
        ``AuthenticationResponseJSON`` dicts.
    """

    context: BrowserContext
    authenticator: Authenticator
    calls: list[BridgedCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.expose_binding(BINDING, self._handle)
        self.context.add_init_script(INIT_SCRIPT)

    def _handle(self, source: dict[str, Any], ceremony: str, options: dict[str, Any]) -> Any:
        """The binding: ``{"credential": json}`` or ``{"error": {"name", "message"}}``."""
        if ceremony not in ("create", "get"):
            return {"error": {"name": "NotSupportedError", "message": f"no {ceremony!r}"}}
        try:
            origin = frame_origin(source["frame"].url)
        except ValueError as error:
            return {"error": {"name": "SecurityError", "message": str(error)}}
        self.calls.append(BridgedCall(ceremony, origin, options))
        call = self.authenticator.create if ceremony == "create" else self.authenticator.get
        try:
            return {"credential": call(options, origin)}
        except AuthenticatorError as error:
            return {"error": {"name": error.dom_name, "message": str(error)}}


def frame_origin(url: str) -> str:
    """The serialized origin ``scheme://host[:port]`` of a frame's URL, as WebAuthn sees it.

    :raises ValueError: the URL has an opaque origin (``about:blank``, ``data:``, a file).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the frame at {url!r} has an opaque origin")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port not in (None, default) else ""
    return f"{parts.scheme}://{host}{port}"
