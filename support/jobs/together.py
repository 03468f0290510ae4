"""``make run``: the development web server and a worker as one command; stopping it stops both.

Ctrl-C reaches all three processes (they share the terminal's process group); TERM sent to
this launcher alone (``make`` forwards its own) is passed on to both children; if either
child exits, the other is stopped too. On Linux each child also gets TERM when the launcher
dies for any reason, even SIGKILL, so no worker is left running without its server.
"""
from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: Ctrl-C and TERM still stop both
        pass


def main(server_args: list[str]) -> int:
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    stopping: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: stopping.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    children = [subprocess.Popen(flask + ["worker"], preexec_fn=_die_with_parent),
                subprocess.Popen(flask + ["run", *server_args], preexec_fn=_die_with_parent)]
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    failed = [child.returncode for child in children if child.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
    return 0 if stopping or not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
