"""The login load's client: complete logins over one kept-alive HTTP/1.1 connection each, with
the standard library's ``http.client``.

It does what a browser does for a login and nothing more: keeps the cookies the server sets,
reads each form's CSRF token, follows the redirect the password step answers with. Every
millisecond of CPU the load's clients spend is taken from the machine the server runs on, so
the client is the cheapest one that still logs in as a person would: no ``requests``, no HTML
parser, no connection pool.
"""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlencode, urlsplit

from benchmarks.server import TotpAccount

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class LoginFailed(RuntimeError):
    """A step of the login answered otherwise than a successful login does."""


class LeanBrowser:
    """One user's connection to the server at ``base_url`` (``http://host:port``), and its
    cookies."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the lean client speaks plain HTTP only, not {base_url!r}")
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def send(
        self, method: str, path: str, form: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, str, str]:
        """Send a request on the connection; the answer's status, ``Location`` path and text."""
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body:
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body or None, headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or ():
            self._keep_cookie(header)
        location = response.getheader("Location", "")
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        return response.status, location, text

    def _keep_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if "max-age=0" in attributes.lower().replace(" ", ""):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def form_token(self, path: str) -> str:
        """Open ``path`` and read its form's CSRF token."""
        status, _, text = self.send("GET", path)
        token = _CSRF.search(text)
        if status != 200 or token is None:
            raise LoginFailed(f"GET {urlsplit(path).path} answered {status} without a form")
        return token.group(1)

    def set_totp_clock(self, username: str, when: int) -> None:
        """The test hook ``/_test/totp-clock``: check ``username``'s codes at ``when``."""
        body = json.dumps({"username": username, "time": when}).encode()
        status, _, _ = self.send("POST", "/_test/totp-clock", body=body)
        if status != 200:
            raise LoginFailed(f"the TOTP clock hook answered {status}")

    def log_in(self, account: TotpAccount, code: str) -> None:
        """A complete login: the login page, the password, the two-factor page, the code."""
        self.cookies.clear()
        token = self.form_token("/account/login/")
        status, location, _ = self.send(
            "POST",
            "/account/login/",
            {"csrf_token": token, "username": account.username, "password": account.password},
        )
        if status != 303 or not location.startswith("/account/two-factor/"):
            raise LoginFailed(f"the password step answered {status}")
        token = self.form_token(location)
        status, _, _ = self.send(
            "POST", location, {"csrf_token": token, "method": "totp", "totp_value": code}
        )
        if status != 303:
            raise LoginFailed(f"the TOTP step answered {status}")

    def close(self) -> None:
        self.connection.close()
