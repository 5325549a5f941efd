"""The service manager: a failing start is reported with its log tail; stop is exact."""

import sys

import pytest

from shoprec.local import process, runtime

pytestmark = pytest.mark.unit


def _service(tmp_path, monkeypatch, code: str, ready=lambda: False) -> process.Service:
    monkeypatch.setattr(runtime, "RUN_DIR", tmp_path)
    return process.Service(name="probe", command=[sys.executable, "-c", code], ready=ready)


def test_a_service_that_dies_is_reported_with_the_tail_of_its_log(tmp_path, monkeypatch):
    service = _service(tmp_path, monkeypatch, "print('port 1 is taken'); raise SystemExit(3)")
    with pytest.raises(SystemExit, match="(?s)probe failed to start.*port 1 is taken"):
        process.start(service, timeout=20)
    assert not service.pid_file.exists()


def test_start_twice_is_safe_and_stop_ends_the_process(tmp_path, monkeypatch):
    service = _service(tmp_path, monkeypatch, "import time; time.sleep(60)", ready=lambda: True)
    process.start(service)
    pid = int(service.pid_file.read_text())
    process.start(service)  # already running: no second process
    assert int(service.pid_file.read_text()) == pid
    process.stop(service)
    assert not process._alive(pid) and not service.pid_file.exists()
