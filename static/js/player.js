// The waveform player: wavesurfer.js drawing peaks riffweb computed from its stored audio, so a
// long song draws at once. Play/pause, seek, zoom, a time read-out, the space bar; A/B between
// variants at the same playhead; and choosing *where* a transform acts: a click sets the extend
// point, a dragged region sets the inpaint range, both kept in step with the form's fields.
// The same click or drag sets where a new comment goes; comments sit on the waveform as
// markers (their own regions plugin, so the transform's regions never clear them).

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
  const player = { el, ws, regions, markers, key: el.dataset.key, stopDragSelection: null, draggedAt: 0 };
  regions.on("region-created", (region) => onRegionChanged(player, region, true));
  regions.on("region-updated", (region) => onRegionChanged(player, region, false));
  markers.on("region-clicked", (region, event) => {
    event.stopPropagation();
    active = player;
    ws.setTime(region.start);
  });
  ws.on("ready", () => drawMarkers(player));
  players.set(player.key, player);
  if (!active) active = player;
  showTime();
  syncForm(player);
}

// --- choosing where a transform acts --------------------------------------------------------

const formFor = (player) =>
  document.querySelector(`[data-waveform-for="${player.key}"] form`);
const field = (form, name) => form?.elements.namedItem(name);
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
  player.regions.clearRegions();
  if (Number.isFinite(at) && at > 0) {
    player.regions.addRegion({ start: at, color: css("--danger") || "#b42318", drag: false, content: "extend" });
  }
}

let syncing = false;
function onRegionChanged(player, region, created) {
  if (syncing) return;
  if (region.end > region.start) {
    player.draggedAt = performance.now();
    setCommentPlace(player, region.start, region.end);
  }
  const form = formFor(player);
  const start = field(form, "replace_start"), end = field(form, "replace_end");
  if (!start || !end || region.end === region.start) return;
  if (created) {
    for (const other of player.regions.getRegions()) if (other !== region) other.remove();
  }
  setField(start, region.start);
  setField(end, region.end);
}

function drawInpaintRange(player) {
  const form = formFor(player);
  const start = Number(field(form, "replace_start")?.value);
  const end = Number(field(form, "replace_end")?.value);
  const region = player.regions.getRegions().find((r) => r.end > r.start);
  const valid = field(form, "replace_start").value !== "" && field(form, "replace_end").value !== "" && end > start;
  syncing = true;
  try {
    if (!valid) { region?.remove(); return; }
    if (region) region.setOptions({ start, end });
    else player.regions.addRegion({ start, end, color: "rgba(91, 60, 196, 0.25)", drag: true, resize: true });
  } finally {
    syncing = false;
  }
}

// Called when the player starts and whenever htmx swaps the transform form (another tab).
function syncForm(player) {
  const form = formFor(player);
  player.stopDragSelection?.();
  player.stopDragSelection = null;
  player.regions.clearRegions();
  player.el.classList.remove("choose-point", "choose-range");
  if (!form) {
    if (commentFormFor(player)) player.stopDragSelection = player.regions.enableDragSelection({ color: "rgba(91, 60, 196, 0.25)" });
    return;
  }
  const extend = field(form, "extend_at");
  if (extend && !extend.disabled) {
    player.el.classList.add("choose-point");
    if (extend.value) drawExtendPoint(player, Number(extend.value));
    extend.addEventListener("input", () => {
      if (document.activeElement === extend) drawExtendPoint(player, Number(extend.value));
    });
  }
  if (!(field(form, "replace_start") && field(form, "replace_end"))) {
    if (commentFormFor(player)) player.stopDragSelection = player.regions.enableDragSelection({ color: "rgba(91, 60, 196, 0.25)" });
  } else {
    player.el.classList.add("choose-range");
    player.stopDragSelection = player.regions.enableDragSelection({ color: "rgba(91, 60, 196, 0.25)" });
    drawInpaintRange(player);
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
  player.ws.setTime(Number(link.dataset.seek));
});

// --- A/B: the variants of a request side by side, one control to switch at the same moment ---

function switchAB(group) {
  const list = [...group.querySelectorAll("[data-player]")].map((el) => players.get(el.dataset.key)).filter(Boolean);
  if (list.length < 2) return;
  const playing = list.find((p) => p.ws.isPlaying());
  const from = playing || (list.includes(active) ? active : list[0]);
  const to = list[(list.indexOf(from) + 1) % list.length];
  const at = from.ws.getCurrentTime();
  from.ws.pause();
  to.ws.setTime(Math.min(at, to.ws.getDuration() || at));
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

// The space bar plays and pauses, except while typing or on a control that uses it.
document.addEventListener("keydown", (event) => {
  if (event.code !== "Space" || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest?.("input, textarea, select, button, a, [contenteditable]")) return;
  if (!active) return;
  event.preventDefault();
  active.ws.playPause();
});

function setUp(root) {
  root.querySelectorAll?.("[data-player]").forEach(setUpPlayer);
  const list = root.matches?.("[data-comment-list]") ? root : root.querySelector?.("[data-comment-list]");
  const listed = list && players.get(list.dataset.commentList);
  if (listed) drawMarkers(listed);
  // A comment was sent (its section swapped in): its dragged part is now a marker; the selection
  // goes, unless it is the inpaint form's range.
  const sent = root.matches?.("[data-comments-for]") && players.get(root.dataset.commentsFor);
  if (sent && !field(formFor(sent), "replace_start")) sent.regions.clearRegions();
  if (root.querySelectorAll?.("[data-player]").length === 0 && root.matches?.("[data-player]")) setUpPlayer(root);
  const form = root.matches?.("[data-waveform-for]") ? root : root.querySelector?.("[data-waveform-for]");
  if (form) {
    const player = players.get(form.dataset.waveformFor);
    if (player) syncForm(player);
  }
}

document.addEventListener("htmx:load", (event) => setUp(event.target));
setUp(document);
window.riffwebPlayers = players; // for the browser tests and the console
