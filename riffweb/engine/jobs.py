"""Job and track store, the render pool and the clock that finishes tracks.

A hosted upstream takes tens of seconds per song; the engine models that with a
render delay. The CPU work runs at once in a small pool; a single scheduler thread
flips each rendered track to done when its delay has passed. Nothing holds a thread
while it waits, so hundreds of slow jobs cost nothing but memory for their rows.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .composer import stable_seed
from .store import AudioStore
from .transforms import Stems

log = logging.getLogger(__name__)

QUEUED, PROCESS, SUCCESS, FAILED = "queued", "process", "success", "failed"


class RenderFailed(Exception):
    """A render that the engine was told to fail (the failing-render trigger)."""


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Track:
    id: str
    job_id: str
    variant: int
    title: str
    tags: str
    lyrics: str
    created_at: float
    ready_at: float
    transform: str | None = None
    parent_riff_id: str | None = None
    audio_upload_id: str | None = None
    status: str = QUEUED
    error: str = ""
    duration: float | None = None
    done_at: float | None = None
    waveform: list[float] = field(default_factory=list)
    music: dict = field(default_factory=dict)  # tempo and key, shown to musicians
    sung: list[tuple[str, float, float]] = field(default_factory=list)  # (line, start s, end s)
    art_seed: int = 0  # its cover image is drawn from this, like its audio from the request's seed
    outcome: Exception | None = None

    @property
    def finished(self) -> bool:
        return self.status in (SUCCESS, FAILED)


@dataclass
class Job:
    id: str
    user_id: str
    track_ids: list[str]
    created_at: float
    reply_url: str | None = None
    reply_ref: str | None = None
    base_url: str = ""  # where this job's client reached us; audio URLs are built on it


@dataclass
class Upload:
    id: str
    transcription_id: str
    duration: float
    format: str
    file_name: str
    created_at: float
    ready_at: float
    user_id: str = ""  # the dialect B account it was uploaded for


class JobStore:
    def __init__(self, store: AudioStore, render_delay: float, workers: int):
        self.audio = store
        self.render_delay = render_delay
        self.lock = threading.RLock()
        self.tracks: dict[str, Track] = {}
        self.jobs: dict[str, Job] = {}
        self.uploads: dict[str, Upload] = {}
        self.forgotten: set[str] = set()  # job and track ids dropped by forget()
        self.on_change: Callable[[Job], None] = lambda job: None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine-render")
        self._due: list[tuple[float, str]] = []
        self._wake = threading.Condition(self.lock)
        self._stopping = False
        self._pending_notify: list[Job] = []
        self._clock = threading.Thread(target=self._finish_due, name="engine-clock", daemon=True)
        self._clock.start()

    def stop(self) -> None:
        with self.lock:
            self._stopping = True
            self._wake.notify_all()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._clock.join(timeout=5)

    # Creating ---------------------------------------------------------------------

    def running_jobs(self, user_id: str | None = None) -> list[Job]:
        """Jobs with a track still unfinished, oldest first, optionally of one user."""
        with self.lock:
            return [
                job
                for job in self.jobs.values()
                if (user_id is None or job.user_id == user_id)
                and any(not self.tracks[t].finished for t in job.track_ids)
            ]

    def submit(
        self,
        *,
        user_id: str,
        title: str,
        tags: str,
        lyrics: str,
        works: list[Callable[[], Stems]],
        seed: int = 0,
        transform: str | None = None,
        parent_riff_id: str | None = None,
        audio_upload_id: str | None = None,
        reply_url: str | None = None,
        reply_ref: str | None = None,
        base_url: str = "",
    ) -> Job:
        now = time.time()
        job = Job(new_id(), user_id, [], now, reply_url, reply_ref, base_url)
        with self.lock:
            for variant, work in enumerate(works):
                track = Track(
                    id=new_id(),
                    job_id=job.id,
                    variant=variant,
                    title=title,
                    tags=tags,
                    lyrics=lyrics,
                    created_at=now,
                    ready_at=now + self.render_delay,
                    transform=transform,
                    parent_riff_id=parent_riff_id,
                    audio_upload_id=audio_upload_id,
                    art_seed=stable_seed("art", seed, variant),
                )
                self.tracks[track.id] = track
                job.track_ids.append(track.id)
            self.jobs[job.id] = job
        self.on_change(job)
        for track_id, work in zip(job.track_ids, works):
            self._pool.submit(self._render, track_id, work)
        return job

    # Rendering --------------------------------------------------------------------

    def forget(self, ids: Iterable[str] | None = None) -> set[str]:
        """Drop jobs and tracks as a restarted or forgetful service would; returns the ids dropped.

        None drops everything. A job id drops the job with its tracks; a track id drops that
        track only (its job lives on with the others). Renders already running finish unseen.
        """
        with self.lock:
            if ids is None:
                gone = set(self.jobs) | set(self.tracks)
                self.jobs.clear()
                self.tracks.clear()
                self._due.clear()
            else:
                gone = set()
                for wanted in ids:
                    job = self.jobs.get(wanted)
                    for track_id in list(job.track_ids) if job else [wanted]:
                        gone |= self._drop_track(track_id)
            self.forgotten |= gone
            return gone

    def _drop_track(self, track_id: str) -> set[str]:
        track = self.tracks.pop(track_id, None)
        if track is None:
            return set()
        job = self.jobs[track.job_id]
        job.track_ids.remove(track_id)
        if job.track_ids:
            return {track_id}
        del self.jobs[job.id]
        return {track_id, job.id}

    def _render(self, track_id: str, work: Callable[[], Stems]) -> None:
        with self.lock:
            track = self.tracks.get(track_id)
            if track is None:  # forgotten before its turn came
                return
            track.status = PROCESS
            job = self.jobs[track.job_id]
        self.on_change(job)
        try:
            stems = work()
            if stems.plan is not None:
                track.music = stems.plan.describe()
            track.duration, track.waveform = self.audio.save(track_id, stems)
            if stems.plan is not None:
                track.sung = [(line, start, min(end, track.duration))
                              for line, start, end in stems.plan.sung_lines() if start < track.duration]
        except Exception as exc:  # any render error must end as a failed track, never a hung one
            if not isinstance(exc, RenderFailed):
                log.exception("render of track %s failed", track_id)
            track.outcome = exc
        with self.lock:
            if time.time() >= track.ready_at:
                self._complete(track)
            else:
                heapq.heappush(self._due, (track.ready_at, track_id))
                self._wake.notify_all()
        self.flush_notifications()

    def _complete(self, track: Track) -> None:
        if track.outcome is not None:
            track.status = FAILED
            track.error = _failure_message(track.outcome)
        else:
            track.status = SUCCESS
        track.done_at = time.time()
        # Called with the lock held; the change hook runs after it is released.
        job = self.jobs.get(track.job_id)
        if job is not None:
            self._pending_notify.append(job)

    def _finish_due(self) -> None:
        while True:
            with self.lock:
                while not self._stopping:
                    now = time.time()
                    if self._due and self._due[0][0] <= now:
                        break
                    timeout = self._due[0][0] - now if self._due else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                while self._due and self._due[0][0] <= time.time():
                    _, track_id = heapq.heappop(self._due)
                    if track_id in self.tracks:  # not forgotten meanwhile
                        self._complete(self.tracks[track_id])
            self.flush_notifications()

    def flush_notifications(self) -> None:
        with self.lock:
            pending, self._pending_notify = self._pending_notify, []
        # Both tracks of a job usually finish in the same tick: one report carries both.
        for job in {job.id: job for job in pending}.values():
            self.on_change(job)

    # Reading ----------------------------------------------------------------------

    def progress(self, track: Track) -> int:
        if track.finished:
            return 100
        if track.status == QUEUED:
            return 0
        if self.render_delay <= 0:
            return 99
        elapsed = time.time() - track.created_at
        return max(1, min(99, int(100 * elapsed / self.render_delay)))

    def track(self, track_id: str) -> Track | None:
        with self.lock:
            return self.tracks.get(track_id)

    def job_tracks(self, job_id: str) -> list[Track]:
        with self.lock:
            job = self.jobs.get(job_id)
            return [self.tracks[t] for t in job.track_ids] if job else []


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, RenderFailed):
        return str(exc) or "The render failed."
    return "The render failed inside the engine."
