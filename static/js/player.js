// The waveform player: wavesurfer.js drawing peaks riffweb computed from its stored audio, so a
// long song draws at once. Play/pause, seek, zoom, a time read-out; a loop (drag across the
// waveform, or a section), speed with the pitch kept, nudges of 5 s or a bar; A/B between
// variants at the same playhead, keeping the loop and speed; keyboard shortcuts (`?` lists them);
// and choosing *where* a transform acts: a click sets the extend point, and the dragged range is
// both the loop and the inpaint range, kept in step with the form's fields. The same click or
// drag sets where a new comment goes; comments sit on the waveform as markers (their own regions
// plugin, so the loop and the transform's marks never clear them).
//
// Other scripts drive it through window.riffwebPlayer: loop(start, end), loopOff(), seek(t).

import WaveSurfer from "wavesurfer.js";
import RegionsPlugin from "wavesurfer.js/regions";

const players = new Map(); // data-key -> {ws, regions, el}
let active = null; // the player the space bar drives

const clock = (seconds) => {
  const s = Math.max(0, seconds || 0);
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
};
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function setUpPlayer(el) {
  if (el.dataset.ready) return;
  el.dataset.ready = "1";
  const media = el.querySelector("[data-media]");
  const peaks = JSON.parse(el.querySelector('script[type="application/json"]')?.textContent || "[]");
  const duration = Number(el.dataset.duration) || undefined;
  const regions = RegionsPlugin.create();
  const markers = RegionsPlugin.create();
  const ws = WaveSurfer.create({
    container: el.querySelector("[data-waveform]"),
    media,
    peaks: peaks.length ? [peaks] : undefined,
    duration,
    height: 96,
    waveColor: css("--wave") || "#b9aee6",
    progressColor: css("--accent") || "#5b3cc4",
    cursorColor: css("--ink") || "#1d1b22",
    barWidth: 2,
    barGap: 1,
    normalize: true,
    plugins: [regions, markers],
    // Its shadow DOM's <style> carries this page's CSP nonce (read from our own script tag).
    cspNonce: document.querySelector("script[nonce]")?.nonce || undefined,
  });
  media.controls = false;
  media.hidden = true;
  const controls = el.querySelector("[data-controls]");
  controls.hidden = false;
  const button = el.querySelector("[data-play]");
  const time = el.querySelector("[data-time]");
  const showTime = () => { time.textContent = `${clock(ws.getCurrentTime())} / ${clock(ws.getDuration() || duration)}`; };
  ws.on("timeupdate", showTime);
  ws.on("ready", showTime);
  ws.on("play", () => { button.textContent = "Pause"; el.classList.add("playing"); active = player; });
  ws.on("pause", () => { button.textContent = "Play"; el.classList.remove("playing"); });
  ws.on("interaction", (at) => { active = player; onWaveformClick(player, at); });
  button.addEventListener("click", () => { active = player; ws.playPause(); });
  el.querySelector("[data-zoom]").addEventListener("input", (event) => ws.zoom(Number(event.target.value)));
  const player = {
    el, ws, regions, markers, key: el.dataset.key, label: el.dataset.label,
    draggedAt: 0, // when a drag last chose a range: the click that ends a drag is not a moment
    range: null, // the region that is both the loop and the inpaint range
    marker: null, // the extend point
    looping: false,
    bar: Number(el.dataset.bpm) > 0 ? 240 / Number(el.dataset.bpm) : null, // a 4/4 bar in seconds
  };
  regions.on("region-created", (region) => onRegionChanged(player, region));
  regions.on("region-updated", (region) => onRegionChanged(player, region));
  // A comment's marker: seek there, and loop it when it is a region.
  markers.on("region-clicked", (region, event) => {
    event.stopPropagation();
    active = player;
    if (region.end > region.start) loop(player, region.start, region.end);
    seek(player, region.start);
  });
  ws.on("ready", () => drawMarkers(player));
  regions.on("region-removed", (region) => {
    if (region === player.range) { player.range = null; setLooping(player, false); }
  });
  ws.on("timeupdate", (at) => keepInLoop(player, at));
  ws.on("finish", () => {
    if (player.looping && player.range) { moveTo(player, player.range.start); ws.play(); }
  });
  // Drag anywhere to choose a range: it loops, and fills the inpaint form when one is open.
  regions.enableDragSelection({ color: RANGE_COLOR });
  media.preservesPitch = true;
  el.querySelector("[data-loop]").addEventListener("click", () => { active = player; toggleLoop(player); });
  el.querySelector("[data-speed]").addEventListener("change", (event) => setSpeed(player, Number(event.target.value)));
  el.querySelectorAll("[data-nudge]").forEach((b) => b.addEventListener("click", () => nudge(player, Number(b.dataset.nudge))));
  el.querySelectorAll("[data-nudge-bars]").forEach((b) => {
    b.hidden = !player.bar;
    b.addEventListener("click", () => nudge(player, Number(b.dataset.nudgeBars) * player.bar));
  });
  el.querySelectorAll("[data-sections] li").forEach((item) => {
    const start = Number(item.dataset.start), end = Number(item.dataset.end);
    item.querySelector("[data-section-seek]").addEventListener("click", () => { active = player; seek(player, start); });
    item.querySelector("[data-section-loop]").addEventListener("click", () => { active = player; loop(player, start, end); });
  });
  players.set(player.key, player);
  if (!active) active = player;
  showTime();
  whenReady(player, () => syncForm(player));
}

// Regions drawn before the audio's duration is known are clamped to nothing: wait for it.
function whenReady(player, then) {
  if (player.ws.getDuration() > 0) then();
  else player.ws.once("ready", then);
}

// --- choosing where a transform acts --------------------------------------------------------

const formFor = (player) =>
  document.querySelector(`[data-waveform-for="${player.key}"] form`);
const field = (form, name) => form?.elements.namedItem(name);
const RANGE_COLOR = "rgba(91, 60, 196, 0.25)";
const round = (x) => (Math.round(x * 10) / 10).toFixed(1);

function setField(input, value) {
  input.value = round(value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

function onWaveformClick(player, at) {
  // A drag ends in a click too: it already set the comment's region.
  if (performance.now() - player.draggedAt > 400) setCommentPlace(player, at, null);
  const extend = field(formFor(player), "extend_at");
  if (extend && !extend.disabled) {
    setField(extend, at);
    drawExtendPoint(player, at);
  }
}

function drawExtendPoint(player, at) {
  player.marker?.remove();
  player.marker = null;
  if (Number.isFinite(at) && at > 0) {
    syncing = true;
    try {
      player.marker = player.regions.addRegion({ start: at, color: css("--danger") || "#b42318", drag: false, content: "extend" });
    } finally {
      syncing = false;
    }
  }
}

let syncing = false; // set while this script moves regions itself, so it does not echo
function onRegionChanged(player, region) {
  if (syncing || region === player.marker || region.end <= region.start) return;
  player.draggedAt = performance.now();
  setCommentPlace(player, region.start, region.end);
  if (region !== player.range) {
    // A fresh drag replaces the range, and starts looping it.
    player.range?.remove();
    player.range = region;
    setLooping(player, true);
  }
  fillInpaintFields(player);
}

function fillInpaintFields(player) {
  const form = formFor(player);
  const start = field(form, "replace_start"), end = field(form, "replace_end");
  if (!start || !end || !player.range) return;
  setField(start, player.range.start);
  setField(end, player.range.end);
}

// Moves (or draws, or with end <= start removes) the range without echoing into the form.
function drawRange(player, start, end) {
  syncing = true;
  try {
    if (!(Number.isFinite(start) && Number.isFinite(end) && end > start)) { player.range?.remove(); return; }
    if (player.range) player.range.setOptions({ start, end });
    else player.range = player.regions.addRegion({ start, end, color: RANGE_COLOR, drag: true, resize: true });
  } finally {
    syncing = false;
  }
}

function drawInpaintRange(player) {
  const form = formFor(player);
  const start = field(form, "replace_start").value, end = field(form, "replace_end").value;
  drawRange(player, start === "" ? NaN : Number(start), end === "" ? NaN : Number(end));
}

// --- the loop, speed and nudges ---------------------------------------------------------------

function setLooping(player, on) {
  player.looping = Boolean(on && player.range);
  const button = player.el.querySelector("[data-loop]");
  button.setAttribute("aria-pressed", String(player.looping));
  player.el.classList.toggle("looping", player.looping);
  if (player.looping) {
    const at = player.ws.getCurrentTime();
    if (at < player.range.start || at >= player.range.end) moveTo(player, player.range.start);
  }
}

// Checked on every animation frame while playing, so the jump back is within a frame of the end.
function keepInLoop(player, at) {
  if (!player.looping || !player.range || !player.ws.isPlaying()) return;
  if (at >= player.range.end || at < player.range.start - 0.5) moveTo(player, player.range.start);
}

function toggleLoop(player) {
  if (!player.range) {
    // No range yet: loop the four bars (or 8 s) from the playhead.
    const at = player.ws.getCurrentTime();
    const span = player.bar ? 4 * player.bar : 8;
    setRange(player, at, Math.min(at + span, duration(player)));
  }
  setLooping(player, !player.looping);
}

const duration = (player) => player.ws.getDuration() || Number(player.el.dataset.duration) || 0;

function setRange(player, start, end) {
  drawRange(player, Math.max(0, start), Math.min(end, duration(player)));
  fillInpaintFields(player);
}

function loop(player, start, end) {
  whenReady(player, () => {
    setRange(player, start, end);
    setLooping(player, true);
  });
}

function seek(player, at) {
  moveTo(player, Math.max(0, Math.min(at, duration(player))));
}

// wavesurfer's setTime only *notes* a time while the media is mid-seek (readyState < 3) and that
// note can be lost, so a quick second nudge would vanish: seek the media element itself.
function moveTo(player, at) {
  const media = player.ws.getMediaElement();
  if (media.readyState >= HTMLMediaElement.HAVE_METADATA) media.currentTime = at;
  else player.ws.setTime(at);
}

function nudge(player, seconds) {
  active = player;
  seek(player, player.ws.getCurrentTime() + seconds);
}

function setSpeed(player, rate) {
  if (!(rate >= 0.5 && rate <= 2)) return;
  player.ws.setPlaybackRate(rate, true); // true: keep the pitch (preservesPitch)
  player.el.querySelector("[data-speed]").value = String(rate);
}

// `[` and `]`: one end of the range at the playhead, the other kept (or the song's end/start).
function setLoopEnd(player, which) {
  const at = player.ws.getCurrentTime();
  const start = which === "start" ? at : (player.range?.start ?? 0);
  const end = which === "end" ? at : (player.range?.end ?? duration(player));
  if (end > start) setRange(player, start, end);
}

// Called when the player starts and whenever htmx swaps the transform form (another tab).
function syncForm(player) {
  const form = formFor(player);
  player.marker?.remove();
  player.marker = null;
  player.el.classList.remove("choose-point", "choose-range");
  if (!form) return;
  const extend = field(form, "extend_at");
  if (extend && !extend.disabled) {
    player.el.classList.add("choose-point");
    if (extend.value) drawExtendPoint(player, Number(extend.value));
    extend.addEventListener("input", () => {
      if (document.activeElement === extend) drawExtendPoint(player, Number(extend.value));
    });
  }
  if (field(form, "replace_start") && field(form, "replace_end")) {
    player.el.classList.add("choose-range");
    // A form that arrives empty takes the range already chosen (the loop); one with a range shows it.
    if (field(form, "replace_start").value === "" && player.range) fillInpaintFields(player);
    else drawInpaintRange(player);
    for (const name of ["replace_start", "replace_end"]) {
      field(form, name).addEventListener("input", (event) => {
        if (event.isTrusted) drawInpaintRange(player);
      });
    }
  }
}

// --- comments: where a new one goes, and the markers of those made --------------------------

const commentFormFor = (player) =>
  document.querySelector(`[data-comments-for="${player.key}"] [data-comment-form]`);

function setCommentPlace(player, at, end) {
  const form = commentFormFor(player);
  if (!form) return;
  form.querySelector("[data-comment-at]").value = round(at);
  form.querySelector("[data-comment-end]").value = end == null ? "" : round(end);
}

// Called when the player is ready and whenever the page's poll swaps in a newer comment list.
function drawMarkers(player) {
  player.markers.clearRegions();
  document.querySelectorAll(`[data-comment-list="${player.key}"] [data-comment-marker]`).forEach((item) => {
    const start = Number(item.dataset.at);
    const end = item.dataset.end ? Number(item.dataset.end) : undefined;
    player.markers.addRegion({
      id: item.id, start, end, drag: false, resize: false,
      color: end ? "rgba(230, 150, 20, 0.25)" : css("--accent") || "#5b3cc4",
    });
  });
  player.el.dataset.markers = String(player.markers.getRegions().length);
}

// Another member's new comment must not wipe a reply or an edit being typed: keep this list,
// and with it its old version, so that the next poll brings the news again once the box is sent
// or emptied.
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const list = event.detail.target;
  if (!list?.matches?.("[data-comment-list]")) return;
  const typing = [...list.querySelectorAll("textarea")].some((box) => box.value.trim() !== box.defaultValue.trim());
  if (typing) event.detail.shouldSwap = false;
});

// `1:23` in a comment, and a comment's time: seek its player there.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("[data-seek][data-seek-in]");
  const player = link && players.get(link.dataset.seekIn);
  if (!player) return;
  event.preventDefault();
  active = player;
  seek(player, Number(link.dataset.seek));
});

// --- A/B: the variants of a request side by side, one control to switch at the same moment ---

// The next variant, or the one labelled `label`; it takes over the loop and the speed, so the
// same bars of both variants can be compared back to back.
function switchAB(group, label) {
  const list = [...group.querySelectorAll("[data-player]")].map((el) => players.get(el.dataset.key)).filter(Boolean);
  if (list.length < 2) return;
  const playing = list.find((p) => p.ws.isPlaying());
  const from = playing || (list.includes(active) ? active : list[0]);
  const to = label ? list.find((p) => p.label === label) : list[(list.indexOf(from) + 1) % list.length];
  if (!to || to === from) return;
  const at = from.ws.getCurrentTime();
  from.ws.pause();
  setSpeed(to, from.ws.getPlaybackRate());
  if (from.range) {
    setRange(to, from.range.start, from.range.end);
    setLooping(to, from.looping);
  }
  moveTo(to, Math.min(at, to.ws.getDuration() || at));
  active = to;
  if (playing) to.ws.play();
  group.querySelectorAll("[data-player]").forEach((el) => el.classList.toggle("ab-current", el === to.el));
  const now = group.querySelector("[data-ab-now]");
  if (now) now.textContent = `variant ${to.el.dataset.label} at ${clock(at)}`;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-ab-switch]");
  if (button) switchAB(button.closest("[data-ab-group]"));
});

// --- keyboard: never while typing in a field ---------------------------------------------------

const SHORTCUTS = [
  ["Space", "Play or pause"],
  ["← / →", "Back or forward 5 seconds"],
  ["L", "Loop on or off (the dragged range, or four bars from the playhead)"],
  ["[ / ]", "Set the loop's start or end at the playhead"],
  ["A / B", "Switch to variant A or B at the same moment"],
  ["?", "Show this list"],
];

let help = null;
function showShortcuts() {
  if (!help) {
    // Built here rather than in each player's template: one list per page.
    help = document.createElement("dialog");
    help.className = "shortcuts";
    help.setAttribute("aria-labelledby", "shortcuts-heading");
    const heading = Object.assign(document.createElement("h2"), { id: "shortcuts-heading", textContent: "Keyboard shortcuts" });
    const list = document.createElement("dl");
    for (const [keys, what] of SHORTCUTS) {
      list.append(Object.assign(document.createElement("dt"), { textContent: keys }),
        Object.assign(document.createElement("dd"), { textContent: what }));
    }
    const close = Object.assign(document.createElement("button"), { type: "button", textContent: "Close" });
    close.addEventListener("click", () => help.close());
    help.append(heading, list, close);
    document.body.append(help);
  }
  if (!help.open) help.showModal();
}

const abGroupOf = (player) => player.el.closest("[data-ab-group]");

document.addEventListener("keydown", (event) => {
  if (event.repeat && event.code === "Space") return;
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const target = event.target;
  if (target.closest?.("input, textarea, select, [contenteditable], dialog")) return;
  if (!active) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const actions = {
    " ": () => active.ws.playPause(),
    ArrowLeft: () => nudge(active, -5),
    ArrowRight: () => nudge(active, 5),
    l: () => toggleLoop(active),
    "[": () => setLoopEnd(active, "start"),
    "]": () => setLoopEnd(active, "end"),
    a: () => abGroupOf(active) && switchAB(abGroupOf(active), "A"),
    b: () => abGroupOf(active) && switchAB(abGroupOf(active), "B"),
    "?": showShortcuts,
  };
  // Space, Enter and arrows keep their own meaning on buttons and links.
  if ((key === " " || key.startsWith("Arrow")) && target.closest?.("button, a")) return;
  const action = actions[key];
  if (!action) return;
  event.preventDefault();
  action();
});

function setUp(root) {
  root.querySelectorAll?.("[data-player]").forEach(setUpPlayer);
  const list = root.matches?.("[data-comment-list]") ? root : root.querySelector?.("[data-comment-list]");
  const listed = list && players.get(list.dataset.commentList);
  if (listed) drawMarkers(listed);
  // A comment was sent (its section swapped in): its dragged part is now a marker; the range
  // (and its loop) goes, unless it is the inpaint form's range.
  const sent = root.matches?.("[data-comments-for]") && players.get(root.dataset.commentsFor);
  if (sent && !field(formFor(sent), "replace_start")) sent.range?.remove();
  if (root.querySelectorAll?.("[data-player]").length === 0 && root.matches?.("[data-player]")) setUpPlayer(root);
  const form = root.matches?.("[data-waveform-for]") ? root : root.querySelector?.("[data-waveform-for]");
  if (form) {
    const player = players.get(form.dataset.waveformFor);
    if (player) whenReady(player, () => syncForm(player));
  }
}

document.addEventListener("htmx:load", (event) => setUp(event.target));
setUp(document);
window.riffwebPlayers = players; // for the browser tests and the console
// A small API for other scripts (a region comment's "loop this"): it acts on the last player used.
window.riffwebPlayer = {
  loop: (start, end, key) => { const p = key ? players.get(key) : active; if (p) { active = p; loop(p, start, end); } },
  loopOff: () => active && setLooping(active, false),
  seek: (at) => active && seek(active, at),
};
