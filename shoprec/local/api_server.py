"""``chalice local`` for the local cloud, without its delayed-ACK stall.

Chalice's local handler sends the status line and headers, then the body, in two unbuffered
writes on a socket without TCP_NODELAY: Nagle's algorithm holds the body back until the
client acknowledges the headers, and the client delays that ACK (~40 ms), so every request
took ~44 ms whatever it did. This handler buffers each response into one write (http.server
flushes it after each request) on a TCP_NODELAY socket. Methods that Chalice's handler
lacks (TRACE, QUERY, ...) go to the gateway stand-in like any other method a route does not
declare, which answers 405 (http.server would answer 501).

Usage: ``python -m shoprec.local.api_server --project-dir api --host 127.0.0.1 --port 8000``
"""

from __future__ import annotations

import argparse
import functools
import os
import socket
from collections.abc import Callable

from chalice.cli.factory import CLIFactory
from chalice.local import ChaliceRequestHandler, create_local_server


class PromptHandler(ChaliceRequestHandler):
    wbufsize = -1  # buffered: one write per response

    def setup(self) -> None:
        super().setup()
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
    server.serve_forever()


if __name__ == "__main__":
    main()
