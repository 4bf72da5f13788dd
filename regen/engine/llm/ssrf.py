"""The SSRF guard: an LLM base URL may only point where the server is allowed to call."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from .errors import LLMError


class UnsafeBaseURL(LLMError, ValueError):
    """A base URL points somewhere the server must not call (SSRF guard)."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def validate_base_url(
    url: str,
    *,
    allow_private: bool = False,
    allowlist: Iterable[str] = (),
    require_https: bool = False,
) -> str:
    """Check that ``url`` is safe to call and return it without its trailing slash.

    Every address the host resolves to must be public. ``allow_private`` also admits
    loopback and private ranges (an operator's own endpoint); link-local addresses
    (cloud metadata at 169.254.169.254), multicast and unspecified ones are admitted
    only when allow-listed. ``allowlist`` holds host names, addresses or CIDR networks.
    Use ``allow_private=False`` and no allowlist for URLs users bring with their own keys.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeBaseURL(f"not a valid URL: {url!r}") from exc
    schemes = ("https",) if require_https else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        raise UnsafeBaseURL(f"the base URL must be {' or '.join(schemes)} with a host")
    if parts.username or parts.password:
        raise UnsafeBaseURL("the base URL must not carry credentials")
    host = parts.hostname.rstrip(".").lower()
    names, networks = _split_allowlist(allowlist)
    if host in names:
        return url.strip().rstrip("/")
    for address in _resolve(host, port or (443 if parts.scheme == "https" else 80)):
        if any(address in network for network in networks):
            continue
        if not _is_safe(address, allow_private=allow_private):
            raise UnsafeBaseURL(f"the base URL's host {host} resolves to a forbidden address")
    return url.strip().rstrip("/")


def _split_allowlist(
    allowlist: Iterable[str],
) -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in allowlist:
        entry = entry.strip().lower()
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [_unmapped(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeBaseURL(f"the base URL's host {host} does not resolve") from exc
    return [_unmapped(ipaddress.ip_address(str(info[4][0]).split("%")[0])) for info in infos]


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_safe(address: IPAddress, *, allow_private: bool) -> bool:
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return False
    if address.is_global:
        return True
    return allow_private and (address.is_private or address.is_loopback)
