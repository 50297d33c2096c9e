// Form helpers for the mode forms: slider read-outs and compose's draggable prompt ranges; and
// the previews of songs still being made. Plain ES module, no bundler. Works on content htmx
// swaps in (htmx:load).

const percent = (x) => `${Math.round(Number(x) * 100)}%`;

function showSliderValue(input) {
  const output = input.form?.querySelector(`output[for="${input.id}"]`) ||
    document.querySelector(`output[for="${input.id}"]`);
  if (output) output.textContent = Number(input.value).toFixed(2);
}

// One prompt's part of the song: a bar on its lane of the form's shared timeline, dragged as a
// whole or by its ends (mouse, pen or finger), kept in step with the two range inputs (0–1) that
// the form submits.
function setUpRange(box) {
  if (box.dataset.ready) return;
  const [start, end] = box.querySelectorAll('input[type="range"]');
  const track = box.closest("form")?.querySelector(`[data-range-track="${box.dataset.range}"]`);
  if (!track) return;
  box.dataset.ready = "1";
  const fill = track.querySelector("[data-range-fill]");
  const text = box.querySelector("[data-range-text]");
  const draw = () => {
    const a = Number(start.value), b = Number(end.value);
    fill.style.left = percent(a);
    fill.style.width = percent(Math.max(0, b - a));
    text.textContent = `${percent(a)} – ${percent(b)} of the song`;
  };
  const set = (input, value) => {
    input.value = (Math.round(Math.min(1, Math.max(0, value)) * 100) / 100).toFixed(2);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  start.addEventListener("input", draw);
  end.addEventListener("input", draw);
  track.removeAttribute("aria-hidden");
  track.setAttribute("title", "Drag the bar to move this prompt's part; drag an end to resize it");
  let drag = null;
  track.addEventListener("pointerdown", (event) => {
    const box = track.getBoundingClientRect();
    const at = (event.clientX - box.left) / box.width;
    const a = Number(start.value), b = Number(end.value);
    const edge = 8 / box.width;
    let kind = "move";
    if (Math.abs(at - a) <= edge) kind = "start";
    else if (Math.abs(at - b) <= edge) kind = "end";
    else if (at < a || at > b) kind = "new";
    drag = { kind, from: at, a, b };
    if (kind === "new") drag = { kind: "new", from: at, a: at, b: at };
    track.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  track.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const box = track.getBoundingClientRect();
    const at = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    if (drag.kind === "move") {
      const width = drag.b - drag.a;
      const a = Math.min(1 - width, Math.max(0, drag.a + at - drag.from));
      set(start, a);
      set(end, a + width);
    } else if (drag.kind === "start") {
      set(start, Math.min(at, Number(end.value) - 0.01));
    } else if (drag.kind === "end") {
      set(end, Math.max(at, Number(start.value) + 0.01));
    } else {
      set(start, Math.min(drag.from, at));
      set(end, Math.max(drag.from, at));
    }
  });
  const stop = () => { drag = null; };
  track.addEventListener("pointerup", stop);
  track.addEventListener("pointercancel", stop);
  draw();
}

function setUp(root) {
  root.querySelectorAll(".slider input[type=range]").forEach(showSliderValue);
  if (root.matches?.("[data-range]")) setUpRange(root);
  root.querySelectorAll?.("[data-range]").forEach(setUpRange);
}

document.addEventListener("input", (event) => {
  if (event.target.matches?.(".slider input[type=range]")) showSliderValue(event.target);
});
document.addEventListener("htmx:load", (event) => setUp(event.target));
setUp(document);

// A song's preview keeps playing across the status poll's swaps (hx-preserve keeps its <audio>,
// so the swapped-in markup's newer src is lost): load the newer copy of the part made so far
// only while the musician is not listening. After the swap has restored preserved elements.
function refreshPreviews() {
  document.querySelectorAll("[data-preview-latest]").forEach((box) => {
    const player = box.querySelector("audio");
    const latest = box.dataset.previewLatest;
    if (player && player.paused && player.getAttribute("src") !== latest) player.setAttribute("src", latest);
  });
}
document.addEventListener("htmx:oobAfterSwap", () => setTimeout(refreshPreviews, 0));
