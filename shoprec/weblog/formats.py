"""Access-log formats: a line → its fields by canonical name, for any configured format.

A format is given as a preset name, an nginx ``log_format`` string (``$remote_addr ...``), an
Apache ``LogFormat`` string (``%h %l %u %t ...``) or an nginx JSON template
(``{"time": "$time_iso8601", ...}``, written with ``escape=json``). ``auto`` (the default)
reads JSON lines, the combined format with or without a trailing Cookie field, and the
common format. Variables the collector does not use are matched and ignored, so a shop's own
format with extra fields needs no code change.

Canonical fields: client, user, time (with its kind: clf, iso or epoch), request (or method
and uri), status, referrer, agent, cookie (the whole header) and ``cookie:<name>`` (one
cookie's value, nginx ``$cookie_<name>`` / Apache ``%{<name>}C``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from shoprec.contracts import ContractError

Fields = dict[str, str]

_NGINX = {
    "remote_addr": "client",
    "realip_remote_addr": "client",
    "remote_user": "user",
    "time_local": "time:clf",
    "time_iso8601": "time:iso",
    "msec": "time:epoch",
    "request": "request",
    "request_method": "method",
    "request_uri": "uri",
    "uri": "uri",
    "status": "status",
    "http_referer": "referrer",
    "http_user_agent": "agent",
    "http_cookie": "cookie",
}
_APACHE = {
    "h": "client",
    "a": "client",
    "u": "user",
    "t": "time:clf",
    "r": "request",
    "m": "method",
    "U": "uri",
    "s": "status",
    "{Referer}i": "referrer",
    "{User-Agent}i": "agent",
    "{Cookie}i": "cookie",
    "{msec}t": "time:epoch",
    "{sec}t": "time:epoch",
}
PRESETS = {
    "combined": '$remote_addr - $remote_user [$time_local] "$request" $status '
    '$body_bytes_sent "$http_referer" "$http_user_agent"',
    "combined_cookie": '$remote_addr - $remote_user [$time_local] "$request" $status '
    '$body_bytes_sent "$http_referer" "$http_user_agent" "$http_cookie"',
    "common": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent',
    "nginx_json": json.dumps(
        {
            "time": "$time_iso8601",
            "remote_addr": "$remote_addr",
            "remote_user": "$remote_user",
            "request": "$request",
            "status": "$status",
            "http_referer": "$http_referer",
            "http_user_agent": "$http_user_agent",
            "http_cookie": "$http_cookie",
        }
    ),
}
_QUOTED = r'((?:[^"\\]|\\.)*)'
_BRACKETED = r"([^\]]*)"
_BARE = r"(\S*)"


def _nginx_field(name: str) -> str:
    if name.startswith("cookie_"):
        return "cookie:" + name.removeprefix("cookie_")
    return _NGINX.get(name, "")  # "" = matched, not used


def _apache_field(directive: str) -> str:
    if directive.startswith("{") and directive.endswith("}C"):
        return "cookie:" + directive[1:-2]
    return _APACHE.get(directive, "")


_NGINX_TOKEN = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_APACHE_TOKEN = re.compile(r"%(%|[<>]?(?:\{[^}]*\})?[a-zA-Z])")


def _tokens(spec: str) -> list[tuple[str, str | None]]:
    """(literal text, field or None) pairs of an nginx or Apache format string."""
    nginx = "$" in spec
    pattern = _NGINX_TOKEN if nginx else _APACHE_TOKEN
    spec = spec if nginx else spec.replace('\\"', '"')
    tokens, position = [], 0
    for match in pattern.finditer(spec):
        tokens.append((spec[position : match.start()], None))
        if not nginx and match[1] == "%":
            tokens.append(("%", None))
        elif nginx:
            tokens.append(("", _nginx_field(match[1] or match[2])))
        else:
            tokens.append(("", _apache_field(match[1].lstrip("<>"))))
        position = match.end()
    tokens.append((spec[position:], None))
    return tokens


@dataclass(frozen=True)
class RegexFormat:
    """A format string compiled to one regular expression."""

    regex: re.Pattern[str]
    fields: tuple[str, ...]  # field of each capture group ("" = ignored)

    @classmethod
    def compile(cls, spec: str) -> RegexFormat:
        tokens = _tokens(spec)
        parts, fields = ["^"], []
        apache_time = "$" not in spec
        for index, (literal, field) in enumerate(tokens):
            if field is None:
                parts.append(re.escape(literal))
                continue
            before = next((t for t, f in reversed(tokens[:index]) if f is None and t), "")
            if field == "time:clf" and apache_time:
                parts.append(r"\[" + _BRACKETED + r"\]")  # Apache's %t carries its brackets
            elif before.endswith('"'):
                parts.append(_QUOTED)
            elif before.endswith("["):
                parts.append(_BRACKETED)
            else:
                parts.append(_BARE)
            fields.append(field)
        parts.append(r"\s*$")
        return cls(re.compile("".join(parts)), tuple(fields))

    def parse(self, line: str) -> Fields | None:
        match = self.regex.match(line)
        if match is None:
            return None
        return {f: v for f, v in zip(self.fields, match.groups(), strict=True) if f and v}


@dataclass(frozen=True)
class JsonFormat:
    """nginx JSON access logs: each key of the template maps to the field of its variable."""

    keys: dict[str, str]

    @classmethod
    def from_template(cls, template: str) -> JsonFormat:
        try:
            shape = json.loads(template)
        except ValueError as error:
            raise ContractError(f"log format: JSON template does not parse: {error}") from None
        keys = {}
        for key, value in shape.items():
            variables = _NGINX_TOKEN.findall(str(value))
            if len(variables) == 1 and (field := _nginx_field("".join(variables[0]))):
                keys[key] = field
        return cls(keys)

    def parse(self, line: str) -> Fields | None:
        try:
            record = json.loads(line)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        return {
            field: str(record[key])
            for key, field in self.keys.items()
            if record.get(key) not in (None, "", "-")
        }


@dataclass(frozen=True)
class AutoFormat:
    """JSON lines by the ``nginx_json`` keys; text lines as combined (+ Cookie) or common."""

    json_format: JsonFormat
    text_formats: tuple[RegexFormat, ...]

    def parse(self, line: str) -> Fields | None:
        if line.startswith("{"):
            return self.json_format.parse(line)
        for text_format in self.text_formats:
            if (fields := text_format.parse(line)) is not None:
                return fields
        return None


LogFormat = RegexFormat | JsonFormat | AutoFormat


def compile_format(spec: str) -> LogFormat:
    """A preset name, ``auto``, an nginx/Apache format string or an nginx JSON template."""
    if spec == "auto":
        return AutoFormat(
            JsonFormat.from_template(PRESETS["nginx_json"]),
            tuple(
                RegexFormat.compile(PRESETS[n]) for n in ("combined_cookie", "combined", "common")
            ),
        )
    spec = PRESETS.get(spec, spec)
    if spec.lstrip().startswith("{"):
        return JsonFormat.from_template(spec)
    if "$" not in spec and "%" not in spec:
        raise ContractError(
            f"log format {spec!r}: not a preset ({', '.join(PRESETS)}, auto), nor an nginx "
            "($variable) or Apache (%directive) format string"
        )
    compiled = RegexFormat.compile(spec)
    if not {"time:clf", "time:iso", "time:epoch"} & set(compiled.fields):
        raise ContractError(f"log format {spec!r} has no time field")
    return compiled


_MONTHS = {
    m: n
    for n, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


@lru_cache(maxsize=4096)
def _clf_second(text: str, zone: str) -> datetime:
    """``01/Apr/2014:03:00:00`` in zone ``+0200``, as UTC (a log repeats each second often)."""
    if text[2] != "/" or text[6] != "/" or text[11] != ":" or len(text) != 20 or len(zone) != 5:
        raise ValueError(text)
    stamp = datetime(
        int(text[7:11]),
        _MONTHS[text[3:6]],
        int(text[0:2]),
        int(text[12:14]),
        int(text[15:17]),
        int(text[18:20]),
        tzinfo=UTC,
    )
    sign = {"+": 1, "-": -1}[zone[0]]
    return stamp - sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))


def parse_clf_time(text: str) -> datetime:
    """``01/Apr/2014:03:00:00 +0000``, optionally with a fraction of a second."""
    try:
        stamp, rest = text[:20], text[20:]
        fraction = 0
        if rest.startswith("."):
            digits, _, rest = rest[1:].partition(" ")
            fraction = int((digits + "000000")[:6])
        second = _clf_second(stamp, rest.strip())
        return second.replace(microsecond=fraction) if fraction else second
    except (IndexError, KeyError, ValueError):
        raise ValueError(text) from None


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _epoch(text: str) -> datetime:
    return datetime.fromtimestamp(float(text), tz=UTC)


TIME_PARSERS: dict[str, Callable[[str], datetime]] = {
    "time:clf": parse_clf_time,
    "time:iso": _iso,
    "time:epoch": _epoch,
}


def event_time(fields: Fields) -> datetime | None:
    """The line's time, whichever way the format wrote it; None when it has none."""
    for kind, parse in TIME_PARSERS.items():
        if kind in fields:
            return parse(fields[kind])
    return None
