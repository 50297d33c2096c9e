"""`python -m riffweb.engine`: run the local engine standalone."""

from __future__ import annotations

import argparse
import signal
import threading

from .server import EngineConfig, EngineServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m riffweb.engine", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--render-delay", type=float, default=20.0, help="seconds a render appears to take")
    parser.add_argument("--token", default=None, help="require Authorization: Bearer TOKEN")
    parser.add_argument("--max-jobs", type=int, default=100, help="unfinished jobs before 429")
    parser.add_argument("--fault-rate-429", type=float, default=0.0)
    parser.add_argument("--fault-rate-5xx", type=float, default=0.0)
    parser.add_argument("--fault-rate-malformed", type=float, default=0.0)
    parser.add_argument("--seed-faults", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    parser.add_argument("--moderation-word", action="append", default=[], help="repeatable; triggers 422")
    parser.add_argument("--fail-render-word", action="append", default=[], help="repeatable; track ends failed")
    parser.add_argument("--trusted-url-prefix", nargs="+", action="extend", default=[])
    parser.add_argument("--render-workers", type=int, default=2)
    parser.add_argument("--data-dir", default=None, help="where audio is kept (default: a temp dir)")
    parser.add_argument(
        "--song-seconds", type=float, default=None,
        help="render every song at about S seconds (benchmarks, demos; allows songs under 30 s)",
    )
    parser.add_argument(
        "--eager-mp3", action="store_true",
        help="encode each MP3 when its render finishes instead of on first download",
    )
    parser.add_argument(
        "--prerendered", type=int, default=0, metavar="N",
        help="render N clips (and N covers) at start and serve them as every generated track (load benchmarks)",
    )
    parser.add_argument(
        "--unknown-job", choices=("404", "empty"), default="404",
        help="dialect B's answer for a job it does not know: 404, or 200 with an empty list",
    )
    parser.add_argument("--fault-rate-596", type=float, default=0.0, help="share of API calls answered 596")
    parser.add_argument("--retry-after", type=int, default=None, help="send Retry-After: S with every 429")
    parser.add_argument("--songs-per-job", type=int, default=2, help="songs in one dialect B job")
    parser.add_argument(
        "--timed-lyrics", choices=("lines", "words", "none"), default="lines",
        help="when each lyric line is sung, on finished tracks: per line, per word, or left out",
    )
    parser.add_argument(
        "--check-user-id", action="store_true",
        help="dialect B: status, upload and download calls must send the job's user_id",
    )
    parser.add_argument(
        "--upload-ready-status", default="completed", help="dialect B's upload status word once processed",
    )
    parser.add_argument(
        "--max-feed-ids", type=int, default=100, help="ids one dialect A feed call takes (0: no limit)",
    )
    parser.add_argument(
        "--feed-overflow", choices=("400", "414", "truncate"), default="400",
        help="dialect A's answer to a feed with more ids than --max-feed-ids",
    )
    parser.add_argument(
        "--no-previews", dest="previews", action="store_false",
        help="never report a preview of a track still being made",
    )
    parser.add_argument(
        "--preview-after", type=float, default=0.4,
        help="share of the render time after which a track's preview is reported (0 to below 1)",
    )
    parser.add_argument("--no-images", dest="images", action="store_false", help="report no cover art")
    parser.add_argument(
        "--image-fault", choices=("bomb", "not_image"), default="",
        help="serve an image bomb or a page that is no image at image_url",
    )
    args = parser.parse_args(argv)
    if args.song_seconds is not None and not 0 < args.song_seconds <= 240:
        parser.error("--song-seconds: must be more than 0 and at most 240")
    config = EngineConfig(
        host=args.host,
        port=args.port,
        render_delay=args.render_delay,
        token=args.token,
        max_jobs=args.max_jobs,
        fault_rate_429=args.fault_rate_429,
        fault_rate_5xx=args.fault_rate_5xx,
        fault_rate_malformed=args.fault_rate_malformed,
        seed_faults=args.seed_faults,
        latency=args.latency,
        moderation_words=tuple(args.moderation_word),
        fail_render_words=tuple(args.fail_render_word),
        trusted_url_prefixes=tuple(args.trusted_url_prefix),
        render_workers=args.render_workers,
        data_dir=args.data_dir,
        song_seconds=args.song_seconds,
        eager_mp3=args.eager_mp3,
        prerendered=args.prerendered,
        unknown_job=args.unknown_job,
        fault_rate_596=args.fault_rate_596,
        retry_after=args.retry_after,
        songs_per_job=args.songs_per_job,
        timed_lyrics=args.timed_lyrics,
        upload_ready_status=args.upload_ready_status,
        check_user_id=args.check_user_id,
        max_feed_ids=args.max_feed_ids or None,
        feed_overflow=args.feed_overflow,
        previews=args.previews,
        preview_after=args.preview_after,
        images=args.images,
        image_fault=args.image_fault,
    )
    stop = threading.Event()
    # Before the address is printed: whoever reads it may stop the engine at once.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = EngineServer(config).start()
    print(f"riffweb engine listening on {server.url}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
