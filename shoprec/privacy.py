"""Personal data in raw logs: client addresses and cookies never reach the lake as they are.

A client is kept as a keyed hash (HMAC-SHA256 with a secret key: Secrets Manager in AWS, a
generated local secret here), enough to build sessions and to spot bots, not to recover the
address. Quarantined raw lines are redacted the same way: every IP address becomes its
keyed token and every Cookie header keeps only the session cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

_ADDRESS = re.compile(
    r"(?<![\w.:])(?:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*[0-9A-Fa-f]|\d{1,3}(?:\.\d{1,3}){3})(?![\w.:])"
)
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_COOKIE_HEADER = re.compile(rf'"(\s*{_TOKEN}=[^";]*(?:;\s*{_TOKEN}=[^";]*)*;?\s*)"')


@lru_cache(maxsize=65536)  # a client sends many lines
def _client_id(key: bytes, address: str, agent: str) -> str:
    return hmac.new(key, f"{address}\x1f{agent}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class ClientHasher:
    key: bytes
    session_cookie: str = "session"

    def _digest(self, text: str, size: int) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()[:size]

    def client_id(self, address: str, agent: str) -> str:
        """One client: its address and user agent, keyed (NAT'ed shoppers stay apart)."""
        return _client_id(self.key, address, agent)

    def address_token(self, address: str) -> str:
        return "ip-" + self._digest(address, 16)

    def session_only(self, header: str) -> str:
        """A Cookie header reduced to the session cookie (``-`` when it has none)."""
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.session_cookie and value:
                return f"{name}={value}"
        return "-"

    def redact(self, text: str) -> str:
        """A raw line without addresses or cookies other than the session's."""

        def address(match: re.Match[str]) -> str:
            try:
                ipaddress.ip_address(match[0])
            except ValueError:
                return match[0]  # a time such as 12:00:00, not an address
            return self.address_token(match[0])

        text = _ADDRESS.sub(address, text)
        return _COOKIE_HEADER.sub(lambda m: f'"{self.session_only(m[1])}"', text)


def client_hash_key(secret_id: str) -> bytes:
    """The hash key from Secrets Manager (cached for five minutes by Powertools)."""
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(secret_id, max_age=300)).encode()
