// The playlist's queue player: one <audio> plays the page's [data-queue-item]s in order (read
// afresh each time, so a reordered list plays in its new order), with Previous and Next; a song
// that ends starts the next. For members it also tells the server where they stopped, at most
// every few seconds while playing and on pause or leaving the page, so that "Resume at" works
// on any device. Plain ES module, no bundler.

const SEND_EVERY_MS = 5000;

function setUp(box) {
  const audio = box.querySelector("[data-queue-audio]");
  const now = box.querySelector("[data-queue-now]");
  const items = () => [...document.querySelectorAll("[data-queue-item]")];
  let current = null; // the item playing (its data-song, and its place when the list changes)
  let lastSent = 0;
  let played = false; // nothing to remember until the listener has played something
  let switching = false; // changing songs pauses the old one: that is not where the listener stopped

  function load(item, at = 0, play = true) {
    if (!item) return;
    items().forEach((other) => other.classList.toggle("queue-current", other === item));
    items().forEach((other) => other.removeAttribute("aria-current"));
    item.setAttribute("aria-current", "true");
    current = item;
    now.textContent = item.dataset.title;
    switching = true;
    audio.src = item.dataset.src;
    if (at > 0) audio.addEventListener("loadedmetadata", () => { audio.currentTime = at; }, { once: true });
    if (play) audio.play().catch(() => {}); // a browser may refuse to play before a gesture
  }

  function step(by) {
    const list = items();
    // The current item may have been swapped out by a reorder: find it again by its song.
    const at = list.findIndex((item) => item === current || item.dataset.song === current?.dataset.song);
    const next = list[at + by];
    if (next) load(next);
  }

  function position() {
    if (!box.dataset.positionUrl || !played || !current || !Number.isFinite(audio.currentTime)) return null;
    const data = new FormData();
    data.append("csrfmiddlewaretoken", box.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("song", current.dataset.song);
    data.append("at", audio.currentTime.toFixed(1));
    return data;
  }
  function sendSoon() {
    if (Date.now() - lastSent < SEND_EVERY_MS) return;
    const data = position();
    if (!data) return;
    lastSent = Date.now();
    fetch(box.dataset.positionUrl, { method: "POST", body: data, credentials: "same-origin" }).catch(() => {});
  }
  function sendNow() {
    const data = position();
    if (data) navigator.sendBeacon(box.dataset.positionUrl, data);
  }

  audio.addEventListener("play", () => { played = true; });
  audio.addEventListener("ended", () => step(1));
  audio.addEventListener("timeupdate", sendSoon);
  audio.addEventListener("loadedmetadata", () => { switching = false; });
  audio.addEventListener("pause", () => { if (!switching) sendNow(); });
  window.addEventListener("pagehide", sendNow);
  box.querySelector("[data-queue-prev]").addEventListener("click", () => step(-1));
  box.querySelector("[data-queue-next]").addEventListener("click", () => step(1));
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-queue-play]");
    if (button) load(button.closest("[data-queue-item]"));
  });
  box.querySelector("[data-queue-resume]")?.addEventListener("click", () => {
    const item = items().find((i) => i.dataset.song === box.dataset.resumeSong);
    load(item, Number(box.dataset.resumeAt));
  });
  load(items()[0], 0, false);
}

document.querySelectorAll("[data-queue]").forEach(setUp);
