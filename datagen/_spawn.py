"""Worker processes of a parallel load: started with the project on their path, told their setup on a pipe
(never the command line, so a password in it does not show in `ps`), read line by line as JSON events."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spawn(module: str, setup: dict, events: queue.Queue) -> subprocess.Popen:
    """Start `python -m module`, send it `setup`, and forward each JSON line it prints to `events` as
    (process, event); {"event": "exit"} when it ends."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=env,
        cwd=ROOT,
    )
    proc.stdin.write(json.dumps(setup) + "\n")
    threading.Thread(target=_read, args=(proc, events), daemon=True).start()
    return proc


def _read(proc: subprocess.Popen, events: queue.Queue) -> None:
    for line in proc.stdout:
        events.put((proc, json.loads(line)))
    events.put((proc, {"event": "exit", "table": None}))
