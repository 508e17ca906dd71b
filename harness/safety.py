"""Where destructive scenarios may run: the decision, kept apart from pytest.

Scenarios marked ``destructive`` delete or change data (projects, releases, collaborators,
tokens). They always run against the bundled server, which is thrown away after the session;
against a server named by ``--base-url`` only when the tester passes ``--allow-destructive``;
and never against the production index, whatever the flags.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# The production index and its file host: real users' projects live there, so no flag lets a
# destructive scenario run against these hosts or any of their subdomains.
PRODUCTION_HOSTS = (
    "pypi.org",
    "www.pypi.org",
    "upload.pypi.org",
    "files.pythonhosted.org",
    "pythonhosted.org",
)
# TestPyPI, the staging index, is a subdomain of pypi.org but a legitimate target: it (and any
# subdomain of it) is not a production host.
STAGING_HOSTS = ("test.pypi.org",)


def destructive_refusal(base_url: str | None, allow_destructive: bool) -> str | None:
    """Why a destructive scenario must not run against ``base_url`` (None or empty: the bundled
    server), or None when it may.

    :param allow_destructive: the tester's ``--allow-destructive``; it never opens a production
        host (see :data:`PRODUCTION_HOSTS`), nor a URL whose host cannot be read.
    :return: the skip reason, one line, or None.
    """
    if not base_url:
        return None
    host = _host(base_url)
    if host is None:
        return (
            f"cannot tell the host of {base_url!r}: destructive scenarios need a URL such as"
            " https://staging.example/"
        )
    production = production_refusal(base_url)
    if production is not None:
        return production
    if not allow_destructive:
        return (
            f"{host} is a --base-url target: destructive scenarios run there only with"
            " --allow-destructive"
        )
    return None


def production_refusal(base_url: str | None) -> str | None:
    """Why nothing that changes data may be sent to ``base_url``: it is the production index
    (one line, naming the host); None for any other URL, or none (the bundled server)."""
    host = _host(base_url) if base_url else None
    if host is not None and _is_production_host(host):
        return f"{host} is the production index: destructive scenarios never run there"
    return None


def _is_production_host(host: str) -> bool:
    """Whether ``host`` (lower case, no trailing dot) is one of :data:`PRODUCTION_HOSTS` or a
    subdomain of one, and not one of :data:`STAGING_HOSTS` or a subdomain of one."""
    return _within(host, PRODUCTION_HOSTS) and not _within(host, STAGING_HOSTS)


def _within(host: str, domains: tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _host(base_url: str) -> str | None:
    """The host ``base_url`` would reach, as ASCII, lower case, without a trailing dot; None
    when it has none or it is not a valid host name.

    IDNA encoding maps what resolvers treat as the same name (full-width letters, the
    ideographic full stop U+3002) to the plain name, as requests does before it connects.
    """
    host = urlsplit(base_url.strip()).hostname
    if not host:
        return None
    try:
        return host.encode("idna").decode("ascii").lower().rstrip(".") or None
    except UnicodeError:
        return None
