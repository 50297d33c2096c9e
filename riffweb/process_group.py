"""Run a command so that its whole process group stops with it: `python -m riffweb.process_group CMD...`.

django-q2's cluster is a tree (main process → sentinel → workers, monitor, pusher). SIGKILL
to its main process used to leave the rest running as orphans, still holding tasks. This
wrapper is what the Procfile starts instead:

- it runs the command in a process group of its own, and passes SIGTERM / SIGINT / SIGHUP
  to the command's main process only (django-q2's own graceful stop);
- when the command's main process ends, however it ends (a SIGKILL too), it kills whatever
  is left of the group, then exits with the command's status;
- when the wrapper itself is killed, even by SIGKILL, the kernel sends SIGTERM to the
  command's main process (Linux's parent-death signal), and a watchdog in the group, which
  sees the wrapper's pipe close, kills the group after a grace period.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 20.0


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the wrapper dies (Linux only; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def watchdog(read_fd: int, pgid: int) -> None:
    """Inside the group: wait for the wrapper's pipe to close, give the cluster its grace, kill the group."""
    while os.read(read_fd, 1):
        pass
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(pgid, 0)  # the command's main process still stopping gracefully?
        except ProcessLookupError:
            break
        time.sleep(0.2)
    kill_group(pgid)


def main(argv: list[str]) -> int:
    if not argv:
        sys.exit("usage: python -m riffweb.process_group COMMAND [ARG...]")
    read_fd, write_fd = os.pipe()
    child = subprocess.Popen(argv, process_group=0, preexec_fn=_die_with_parent, pass_fds=())
    guard_argv = [sys.executable, "-m", "riffweb.process_group", "--watchdog", str(read_fd), str(child.pid)]
    # The watchdog joins the command's group, so killing the group ends it too.
    subprocess.Popen(guard_argv, process_group=child.pid, pass_fds=(read_fd,))
    os.close(read_fd)

    def forward(signum, frame):
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    status = child.wait()
    kill_group(child.pid)  # orphans of a main process that died without stopping them
    os.close(write_fd)
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    if sys.argv[1:2] == ["--watchdog"]:
        watchdog(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(main(sys.argv[1:]))
