"""Render and encode a three-minute song with the local engine, on one core.

    .venv/bin/python benchmarks/engine_bench.py [--style TAGS] [--seconds N]

Prints render_realtime_factor (song seconds per CPU second of rendering),
encode_realtime_factor (song seconds per CPU second of render + MP3 encode) and
peak_rss_mb. Targets: render >= 60, render + encode >= 30, peak RSS <= 300 MB.
CPU time is process_time(), so it is one core's worth even if numpy used more.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

# One core: keep any BLAS/FFT thread pools from spreading the work.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from riffweb import audio  # noqa: E402
from riffweb.engine.composer import Prompt, SongSpec, mix, plan_song, render  # noqa: E402
from riffweb.engine.instruments import SR  # noqa: E402

LYRICS = """[Intro]
[Verse]
Driving down the highway with the windows down
Singing to the radio across the town
Every light is shining on the road ahead
Every word you whisper is a song unsaid
[Chorus]
Oh tonight we are alive
Hold me close and feel the drive
Oh tonight we are alive
Hold me close and feel the drive
[Verse]
Morning finds us dreaming by the river side
Nothing left to carry and no place to hide
Counting all the stars that fell along the way
Every one a wish we made another day
[Chorus]
Oh tonight we are alive
Hold me close and feel the drive
Oh tonight we are alive
Hold me close and feel the drive
[Bridge]
And when the night is gone
We will keep on singing on
[Chorus]
Oh tonight we are alive
Hold me close and feel the drive
Oh tonight we are alive
Hold me close and feel the drive
[Outro]
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--style", default="country pop with acoustic guitar")
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args()

    spec = SongSpec([Prompt(args.style)], lyrics=LYRICS, seed=7, duration=args.seconds)
    start = time.process_time()
    plan = plan_song(spec)
    vocals, instrumental = render(plan)
    mixed = mix(vocals, instrumental, out=instrumental)
    rendered = time.process_time()
    encoded = audio.encode_mp3(mixed, SR)
    done = time.process_time()
    seconds = len(mixed) / SR
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"song_seconds={seconds:.1f} bpm={plan.bpm} mp3_bytes={len(encoded)}")
    print(f"render_realtime_factor={seconds / (rendered - start):.1f}")
    print(f"encode_realtime_factor={seconds / (done - start):.1f}")
    print(f"peak_rss_mb={peak_kb / 1024:.0f}")


if __name__ == "__main__":
    main()
