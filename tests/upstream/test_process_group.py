"""`kill -9` of the worker's top process leaves no django-q2 process behind (Procfile's arrangement)."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.cluster import ROOT, qcluster_env, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def processes() -> dict[int, tuple[int, int]]:
    """Every live process: pid → (parent pid, process group)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                found[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return found


def group_members(pgid: int) -> set[int]:
    return {pid for pid, (_, group) in processes().items() if group == pgid}


def start_wrapped_cluster() -> tuple[subprocess.Popen, int]:
    """The worker as the Procfile runs it; returns the wrapper and the cluster's process group."""
    wrapper = subprocess.Popen(
        [sys.executable, "-m", "riffweb.process_group", sys.executable, str(ROOT / "manage.py"), "qcluster",
         "--skip-checks"],
        cwd=ROOT, env=qcluster_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    running = threading.Event()
    threading.Thread(target=lambda: [running.set() for line in wrapper.stdout if "running" in line],
                     daemon=True).start()
    assert running.wait(30), "the cluster did not start"
    cluster_main = wait_for(lambda: next((p for p, (ppid, _) in processes().items() if ppid == wrapper.pid), None),
                            timeout=10, message="the cluster's main process")
    pgid = processes()[cluster_main][1]
    assert pgid == cluster_main != os.getpgid(0)
    wait_for(lambda: len(group_members(pgid)) >= 4, timeout=20, message="the workers")  # main, sentinel, workers…
    return wrapper, pgid


def assert_no_survivor(pgid: int) -> None:
    try:
        wait_for(lambda: not group_members(pgid), timeout=40, message=f"process group {pgid} to be empty")
    finally:
        try:
            os.killpg(pgid, signal.SIGKILL)  # never leave a test's processes behind
        except ProcessLookupError:
            pass


def test_kill_9_of_the_top_process_stops_every_worker():
    wrapper, pgid = start_wrapped_cluster()
    wrapper.kill()
    wrapper.wait(10)
    assert_no_survivor(pgid)


def test_kill_9_of_the_clusters_main_process_stops_every_worker_and_the_wrapper():
    wrapper, pgid = start_wrapped_cluster()
    os.kill(pgid, signal.SIGKILL)
    assert wrapper.wait(20) == 128 + signal.SIGKILL
    assert_no_survivor(pgid)


def test_sigterm_to_the_top_process_is_the_clusters_graceful_stop():
    wrapper, pgid = start_wrapped_cluster()
    wrapper.terminate()
    assert wrapper.wait(40) == 0
    assert_no_survivor(pgid)
