// "Resume on any device" on a song's page: the server remembers where this listener stopped in
// the song (posted at most every few seconds while playing, and on pause or leaving the page,
// with the page's CSRF token), and the page offers "Resume at 1:23". Works on the song's own
// <audio> (the waveform player plays through it), so it needs nothing from player.js.

const SEND_EVERY_MS = 5000;

function setUp(box) {
  const audio = document.querySelector(`#${box.dataset.resumeFor} audio[data-media]`);
  if (!audio) return;
  const token = document.querySelector("[name=csrfmiddlewaretoken]")?.value;
  let lastSent = 0;
  const position = () => {
    const data = new FormData();
    data.append("csrfmiddlewaretoken", token);
    data.append("at", (audio.currentTime || 0).toFixed(1));
    return data;
  };
  audio.addEventListener("timeupdate", () => {
    if (audio.paused || Date.now() - lastSent < SEND_EVERY_MS) return;
    lastSent = Date.now();
    fetch(box.dataset.positionUrl, { method: "POST", body: position(), credentials: "same-origin" }).catch(() => {});
  });
  audio.addEventListener("pause", () => navigator.sendBeacon(box.dataset.positionUrl, position()));
  window.addEventListener("pagehide", () => {
    if (!audio.paused) navigator.sendBeacon(box.dataset.positionUrl, position());
  });
  box.querySelector("[data-resume-button]")?.addEventListener("click", () => {
    audio.currentTime = Number(box.dataset.at) || 0;
    audio.play().catch(() => {});
  });
}

document.querySelectorAll("[data-resume]").forEach(setUp);
