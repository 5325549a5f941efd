"""``chalice local`` for the local cloud, without its delayed-ACK stall.

Chalice's local handler sends the status line and headers, then the body, in two unbuffered
writes on a socket without TCP_NODELAY: Nagle's algorithm holds the body back until the
client acknowledges the headers, and the client delays that ACK (~40 ms), so every request
took ~44 ms whatever it did. This handler buffers each response into one write (http.server
flushes it after each request) on a TCP_NODELAY socket. Methods that Chalice's handler
lacks (TRACE, QUERY, ...) go to the gateway stand-in like any other method a route does not
declare, which answers 405 (http.server would answer 501). And a route gets its path
parameters URL-decoded, as API Gateway hands them (Chalice's local matcher passes them as
sent).

Usage: ``python -m shoprec.local.api_server --project-dir api --host 127.0.0.1 --port 8000``
"""

from __future__ import annotations

import argparse
import functools
import os
import socket
import sys
from collections.abc import Callable
from urllib.parse import unquote

from chalice import Chalice
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    LambdaEventConverter,
    MatchResult,
    RouteMatcher,
    create_local_server,
)

from shoprec.local.emf import ForwardingStdout


class DecodingRouteMatcher(RouteMatcher):
    def match_route(self, url: str) -> MatchResult:
        match = super().match_route(url)
        return match._replace(captured={k: unquote(v) for k, v in match.captured.items()})


class PromptHandler(ChaliceRequestHandler):
    wbufsize = -1  # buffered: one write per response

    def __init__(self, request, client_address, server, app_object: Chalice, config: Config):
        self.decoding_converter = LambdaEventConverter(
            DecodingRouteMatcher(list(app_object.routes)), app_object.api.binary_types
        )
        super().__init__(request, client_address, server, app_object=app_object, config=config)

    def setup(self) -> None:  # runs before the request is handled, inside __init__
        super().setup()
        self.local_gateway.event_converter = self.decoding_converter
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):  # TRACE, QUERY, ...: the gateway stand-in answers (405)
            return self._generic_handle
        raise AttributeError(name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    config = CLIFactory(project_dir=args.project_dir, environ=dict(os.environ)).create_config_obj(
        chalice_stage_name=args.stage
    )
    server = create_local_server(config.chalice_app, config, args.host, args.port)
    server.server.RequestHandlerClass = functools.partial(
        PromptHandler, app_object=config.chalice_app, config=config
    )
    sys.stdout = ForwardingStdout(sys.stdout)  # the API's metrics, as CloudWatch Logs extracts them
    server.serve_forever()


if __name__ == "__main__":
    main()
