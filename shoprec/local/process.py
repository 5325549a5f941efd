"""Host processes the project starts: each with its run folder, log and pid file.

``start`` is safe to repeat (a running, ready service is left alone) and reports a service
that fails to start with the tail of its log; ``stop`` ends exactly the process group whose
pid it recorded (TERM, then KILL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shoprec.local import runtime


@dataclass
class Service:
    name: str
    command: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], None] = lambda: None

    @property
    def folder(self) -> Path:
        return runtime.RUN_DIR / self.name

    @property
    def pid_file(self) -> Path:
        return self.folder / "pid"

    @property
    def log_file(self) -> Path:
        return self.folder / "log"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def recorded_pid(service: Service) -> int | None:
    try:
        pid = int(service.pid_file.read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(service: Service, timeout: float = 120) -> None:
    if recorded_pid(service) and service.ready():
        print(f"[up] {service.name}: already running")
        return
    service.folder.mkdir(parents=True, exist_ok=True)
    service.prepare()
    started = time.monotonic()
    with service.log_file.open("ab") as log:
        process = subprocess.Popen(
            service.command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=os.environ | service.env,
            cwd=service.folder,
        )
    service.pid_file.write_text(str(process.pid))
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            break
        if service.ready():
            print(
                f"[up] {service.name}: ready in {time.monotonic() - started:.1f}s "
                f"(pid {process.pid}, log {service.log_file})"
            )
            return
        time.sleep(0.3)
    stop(service, quiet=True)
    raise SystemExit(
        f"[up] {service.name} failed to start (exit {process.poll()}); "
        f"last lines of {service.log_file}:\n{_tail(service.log_file)}"
    )


def stop(service: Service, quiet: bool = False) -> None:
    pid = recorded_pid(service)
    if pid is None:
        if not quiet:
            print(f"[down] {service.name}: not running")
        service.pid_file.unlink(missing_ok=True)
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if not _alive(pid):
            break
    service.pid_file.unlink(missing_ok=True)
    if not quiet:
        print(f"[down] {service.name}: stopped (pid {pid})")


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
