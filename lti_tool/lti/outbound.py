"""Every HTTP call the tool makes to an LMS goes through one guarded ``requests`` session.

Registration, platform key sets, OAuth tokens, roster (NRPS) and grades (AGS) all fetch URLs that
came from outside. Without a guard they are a server-side request forgery channel into the tool's
own network (databases, caches, cloud metadata). The session here:

* refuses URLs whose host resolves to a loopback, private, link-local, shared or otherwise
  non-global address, unless it lies in ``OUTBOUND_ALLOWED_NETWORKS`` (an LMS on the company
  network) or ``OUTBOUND_ALLOW_PRIVATE_NETWORKS`` is on (development and tests, whose test LMS runs
  on 127.0.0.1); the check runs before any connection is opened, so a refused address cannot be
  told from a closed port;
* refuses plain ``http://`` unless ``LTI_ALLOW_HTTP`` is on;
* follows a redirect only to the same scheme, host and port;
* applies a timeout and a response size limit (``OUTBOUND_TIMEOUT_SECONDS``, ``OUTBOUND_MAX_BYTES``).

Residual risk, documented in docs/security.md: the address is checked when the name is resolved,
and the connection resolves it again, so a DNS server that answers differently within milliseconds
could still steer one request. Every URL reaching here was set by an administrator (CLI) or through
a one-time registration link an administrator made.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import requests
from flask import current_app, has_app_context

USER_AGENT = "ReciprocalMentoringLab/0.1 (LTI 1.3 tool)"
DEFAULTS = {"OUTBOUND_ALLOW_PRIVATE_NETWORKS": False, "LTI_ALLOW_HTTP": False, "OUTBOUND_ALLOWED_NETWORKS": [],
            "OUTBOUND_TIMEOUT_SECONDS": 10, "OUTBOUND_MAX_BYTES": 5 * 1024 * 1024}


class OutboundRefused(requests.RequestException):
    """A URL the tool will not fetch; the message says why, in words an administrator can act on."""


def setting(name: str):
    if has_app_context():
        return current_app.config.get(name, DEFAULTS[name])
    return DEFAULTS[name]


def _is_allowed(address: str) -> bool:
    """A global unicast address, or one inside OUTBOUND_ALLOWED_NETWORKS."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in ipaddress.ip_network(n, strict=False) for n in setting("OUTBOUND_ALLOWED_NETWORKS")):
        return True
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Raise OutboundRefused unless the tool may fetch ``url`` under the current settings."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OutboundRefused(f"{url!r} is not an http(s) URL.")
    if parts.scheme == "http" and not setting("LTI_ALLOW_HTTP"):
        raise OutboundRefused(f"{url} is not https; the tool only talks to an LMS over https.")
    if setting("OUTBOUND_ALLOW_PRIVATE_NETWORKS"):
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, ValueError) as e:
        raise OutboundRefused(f"The host of {url} could not be resolved.") from e
    if not addresses or not all(_is_allowed(a) for a in addresses):
        raise OutboundRefused(f"{url} points to a private or local network address, which the tool does not fetch.")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


class GuardedSession(requests.Session):
    """A requests session that checks every URL (redirects included) and bounds time and size."""

    def __init__(self):
        super().__init__()
        self.headers["User-Agent"] = USER_AGENT
        self.max_redirects = 5
        self.hooks["response"].append(self._read_bounded)

    def send(self, request, **kwargs):
        check_url(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = setting("OUTBOUND_TIMEOUT_SECONDS")
        return super().send(request, **kwargs)

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target is not None and _origin(urljoin(resp.url, target)) != _origin(resp.url):
            raise OutboundRefused(f"{resp.url} redirects to another host; the tool does not follow it.")
        return target

    @staticmethod
    def _read_bounded(response: requests.Response, **_kwargs) -> requests.Response:
        limit = setting("OUTBOUND_MAX_BYTES")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise OutboundRefused(f"The answer from {response.url} is larger than {limit} bytes.")
        body = response.raw.read(limit + 1, decode_content=True) if response.raw is not None else b""
        if len(body) > limit:
            response.close()
            raise OutboundRefused(f"The answer from {response.url} is larger than {limit} bytes.")
        response._content = body
        response._content_consumed = True
        return response


def session() -> GuardedSession:
    return GuardedSession()


class LazySession:
    """A GuardedSession made on first use: most launches find the platform's keys held and call nobody,
    and making a requests session (adapters, pools) is a noticeable part of a launch's CPU."""

    def __init__(self):
        self._session: GuardedSession | None = None

    def __getattr__(self, name):
        if self._session is None:
            self._session = GuardedSession()
        return getattr(self._session, name)
