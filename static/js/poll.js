// The page's one status poll (#song-poll; htmx ticks it every second) asks only when it is due:
// soon after something moved, then less and less often while the answers say nothing changed
// (data-poll-waits: the seconds to wait after 0, 1, 2, … quiet answers in a row), and never
// from a hidden tab. Every logged-in page polls for its inbox count, so a page left open
// without news would otherwise ask every two seconds for as long as it stays open.
// Each wait is stretched or shrunk by up to a fifth at random: pages that an outage or a
// restart set asking in step would otherwise keep asking in step, every one in the same second.
let quiet = 0;
let last = -Infinity;
let stretch = 1;

function waitMs(poller) {
  const waits = (poller.dataset.pollWaits || "2").trim().split(/\s+/).map(Number);
  return waits[Math.min(quiet, waits.length - 1)] * 1000 * stretch;
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const poller = event.detail.elt;
  if (poller.id !== "song-poll") return;
  // A tick can come a little early: a quarter of a second of slack keeps the waits whole.
  if (document.hidden || performance.now() - last < waitMs(poller) - 250) {
    event.preventDefault();
    return;
  }
  last = performance.now();
  stretch = 0.8 + Math.random() * 0.4;
});

document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.elt.id === "song-poll") {
    quiet = event.detail.xhr.status === 204 ? quiet + 1 : 0;
  } else if (event.detail.requestConfig?.verb !== "get") {
    quiet = 0; // the musician changed something: what it started should show at once
  }
});

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  quiet = 0; // back on the tab: ask at the next tick
  last = -Infinity;
});
