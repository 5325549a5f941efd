"""Run LocalStack as a host process, bound to loopback, with its files in the run folder.

Runs in the LocalStack venv: ``python -m shoprec.local.localstack_launcher``. Two patches
over ``localstack.runtime.main``: the S3 spill folder follows ``LS_S3_TMP_DIR`` (it is
hard-coded under /tmp), and the gateway binds the host of ``GATEWAY_LISTEN`` (it binds
0.0.0.0 otherwise). ``os._exit`` skips a slow interpreter teardown so SIGTERM stops it in
about a second.
"""

import os
import runpy
import sys
import traceback


def _patch() -> None:
    if os.environ.get("LS_S3_TMP_DIR"):
        import localstack.services.s3.provider as s3_provider

        s3_provider.DEFAULT_S3_TMP_DIR = os.environ["LS_S3_TMP_DIR"]

    import localstack.runtime.server.twisted as twisted_server

    endpoint, register = (
        twisted_server.endpoints.TCP4ServerEndpoint,
        twisted_server.TwistedRuntimeServer.register,
    )

    def register_on_host(self, gateway, listen, ssl_creds=None):
        for host_port in listen:
            twisted_server.endpoints.TCP4ServerEndpoint = (
                lambda reactor, port, _host=host_port.host, **kw: endpoint(
                    reactor, port, interface=_host, **kw
                )
            )
            try:
                register(self, gateway, [host_port], ssl_creds)
            finally:
                twisted_server.endpoints.TCP4ServerEndpoint = endpoint

    twisted_server.TwistedRuntimeServer.register = register_on_host


def main() -> None:
    code = 0
    try:
        _patch()
        runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
