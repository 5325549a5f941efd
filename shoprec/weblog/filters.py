"""Requests that are valid but not shopper behaviour: health checks, bots, assets, methods.

Bots are recognised by CrawlerDetect's user-agent patterns (``crawlerdetect``, the Python
port of JayBizzle/Crawler-Detect, ~1,500 patterns), cached per user agent: a log repeats a
few hundred agents millions of times.
"""

from __future__ import annotations

from functools import lru_cache

HEALTH_PATHS = frozenset({"/health", "/healthz", "/ping", "/status", "/ready", "/livez", "/readyz"})
HEALTH_AGENTS = ("ELB-HealthChecker", "kube-probe", "GoogleHC", "Amazon-Route53-Health-Check")
ASSET_SUFFIXES = (
    ".js", ".css", ".map", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico",
    ".woff", ".woff2", ".ttf", ".eot",
)  # fmt: skip
ASSET_PREFIXES = ("/static/", "/assets/")
PAGE_METHODS = frozenset({"GET", "POST"})


@lru_cache(maxsize=1)
def _detector():
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@lru_cache(maxsize=4096)
def is_bot(agent: str) -> bool:
    return bool(agent) and _detector().isCrawler(agent)


def filter_reason(method: str, path: str, agent: str) -> str | None:
    """Why this request is not behaviour, or None when it is."""
    if path in HEALTH_PATHS or agent.startswith(HEALTH_AGENTS):
        return "health_check"
    if is_bot(agent):
        return "bot"
    if path.startswith(ASSET_PREFIXES) or path.lower().endswith(ASSET_SUFFIXES):
        return "asset"
    if method not in PAGE_METHODS:
        return "method"
    return None
