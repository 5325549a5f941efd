"""Named places where a fault test stops a real process (as FreeBSD's and TiKV's fail points).

``SHOPREC_FAILPOINTS=landed,published`` makes a process that reaches one of those places
print ``FAILPOINT <name>`` on stderr and wait there, until the file named by
``SHOPREC_FAILPOINT_RESUME`` exists, or for ever: the test meanwhile kills it (SIGKILL), stops
the broker, or lets another process race it. Unset, a fail point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time


def failpoint(name: str) -> None:
    armed = os.environ.get("SHOPREC_FAILPOINTS")
    if not armed or name not in armed.split(","):
        return
    print(f"FAILPOINT {name}", file=sys.stderr, flush=True)
    resume = os.environ.get("SHOPREC_FAILPOINT_RESUME")
    while not (resume and os.path.exists(resume)):
        time.sleep(0.05)
