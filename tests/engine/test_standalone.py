"""`python -m riffweb.engine` runs the engine on its own and stops cleanly on SIGTERM."""

import signal
import subprocess
import sys

import requests


def test_the_standalone_command_prints_its_url_and_serves():
    process = subprocess.Popen(
        [sys.executable, "-m", "riffweb.engine", "--port", "0", "--render-delay", "0", "--token", "t"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("riffweb engine listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1]
        assert requests.get(url + "/_engine/health", timeout=5).status_code == 200
        assert requests.post(url + "/riffusion/generate", json={}, timeout=5).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
