// Lyrics on the studio's pages. Plain ES module, no bundler; works on content htmx swaps in.
// - Timed lyrics (song page): the line being sung lights up as the audio plays, a click on a line
//   seeks there, and ticked lines offer "Inpaint these lines" with their time range.
// - The lyrics field: a toolbar inserting section markers at the cursor, a character counter
//   against the service's limit, and a written draft filling the field ("Use these lyrics").

const NEAR_LIMIT = 0.9; // the counter warns from this share of the limit

// --- timed lyrics ------------------------------------------------------------------------

function mediaFor(list) {
  return document.querySelector(`[data-player][data-key="${list.dataset.player}"] [data-media]`);
}

function highlight(list, media) {
  const now = media.currentTime;
  for (const line of list.querySelectorAll("li[data-start]")) {
    const on = now >= Number(line.dataset.start) && now < Number(line.dataset.end);
    line.classList.toggle("sung", on);
    if (on) line.setAttribute("aria-current", "true");
    else line.removeAttribute("aria-current");
  }
}

function pickedRange(list) {
  const picked = [...list.querySelectorAll("li")].filter((li) => li.querySelector("[data-pick]")?.checked);
  if (!picked.length) return null;
  return { start: Number(picked[0].dataset.start), end: Number(picked.at(-1).dataset.end) };
}

function showInpaintLink(list) {
  const link = list.parentElement.querySelector("[data-inpaint-lines]");
  if (!link) return;
  const range = pickedRange(list);
  link.hidden = !range;
  if (range) {
    const query = new URLSearchParams({ mode: "inpaint", replace_start: range.start.toFixed(2), replace_end: range.end.toFixed(2) });
    link.href = `?${query}#transform-form`;
  }
}

let lastPicked = null; // shift-click ticks the run of lines from the last one ticked

function setUpTimedLyrics(list) {
  if (list.dataset.ready) return;
  const media = mediaFor(list);
  if (!media) return;
  list.dataset.ready = "1";
  media.addEventListener("timeupdate", () => highlight(list, media));
  media.addEventListener("seeked", () => highlight(list, media));
  list.addEventListener("click", (event) => {
    const seek = event.target.closest("[data-seek]");
    if (seek) {
      media.currentTime = Number(seek.closest("li").dataset.start);
      highlight(list, media);
      return;
    }
    const box = event.target.closest("[data-pick]");
    if (!box) return;
    const boxes = [...list.querySelectorAll("[data-pick]")];
    if (event.shiftKey && lastPicked && boxes.includes(lastPicked)) {
      const [a, b] = [boxes.indexOf(lastPicked), boxes.indexOf(box)].sort((x, y) => x - y);
      boxes.forEach((other, i) => { if (i >= a && i <= b) other.checked = box.checked; });
    }
    lastPicked = box;
    showInpaintLink(list);
  });
  highlight(list, media);
}

// --- the lyrics field --------------------------------------------------------------------

function lyricsField(editor) {
  return editor.querySelector("textarea[data-lyrics-limit]");
}

function count(editor) {
  const field = lyricsField(editor);
  const counter = editor.querySelector("[data-lyrics-count]");
  if (!field || !counter) return;
  const limit = Number(field.dataset.lyricsLimit);
  const used = field.value.length;
  counter.hidden = false;
  counter.textContent = used > limit
    ? `${used} / ${limit} characters: ${used - limit} over the music service's limit`
    : `${used} / ${limit} characters`;
  counter.classList.toggle("warning", used >= limit * NEAR_LIMIT && used <= limit);
  counter.classList.toggle("error", used > limit);
}

function insertMarker(field, marker) {
  const { selectionStart: start, selectionEnd: end, value } = field;
  // A marker sits on its own line.
  const before = start > 0 && value[start - 1] !== "\n" ? "\n" : "";
  const after = value[end] === "\n" ? "" : "\n";
  field.setRangeText(`${before}${marker}${after}`, start, end, "end");
  field.focus();
  field.dispatchEvent(new Event("input", { bubbles: true }));
}

function fillLyrics(editor, draft, ask) {
  const field = lyricsField(editor);
  if (!field) return;
  const text = draft.querySelector("[data-draft-text]").textContent;
  const note = draft.querySelector("[data-draft-note]");
  if (field.value.trim() && ask) return; // the musician's own words stay until they choose
  field.value = text;
  field.dispatchEvent(new Event("input", { bubbles: true }));
  note.textContent = "These lyrics are now in the lyrics field; edit them freely.";
  draft.querySelector("[data-use-lyrics]").hidden = true;
}

function setUpEditor(editor) {
  if (editor.dataset.ready) return;
  editor.dataset.ready = "1";
  const field = lyricsField(editor);
  const toolbar = editor.querySelector("[data-marker-toolbar]");
  if (field && toolbar) toolbar.hidden = field.disabled;
  count(editor);
}

document.addEventListener("click", (event) => {
  const marker = event.target.closest?.("[data-marker]");
  const editor = event.target.closest?.("[data-lyrics-editor]");
  if (marker && editor) insertMarker(lyricsField(editor), marker.dataset.marker);
  const use = event.target.closest?.("[data-use-lyrics]");
  if (use && editor) fillLyrics(editor, use.closest("[data-lyrics-draft]"), false);
});

document.addEventListener("input", (event) => {
  const editor = event.target.closest?.("[data-lyrics-editor]");
  if (editor && event.target.matches("textarea[data-lyrics-limit]")) count(editor);
});

function setUp(root) {
  if (!root.querySelectorAll) return;
  root.querySelectorAll("[data-timed-lyrics]").forEach(setUpTimedLyrics);
  root.querySelectorAll("[data-lyrics-editor]").forEach(setUpEditor);
  // A draft that was just written fills an empty field by itself.
  const drafts = root.matches("[data-lyrics-draft]") ? [root] : [...root.querySelectorAll("[data-lyrics-draft]")];
  for (const draft of drafts) {
    const editor = draft.closest("[data-lyrics-editor]");
    if (editor) fillLyrics(editor, draft, true);
  }
}

document.addEventListener("htmx:load", (event) => setUp(event.target));
setUp(document);
