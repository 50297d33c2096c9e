// Lists the team arranges (the shortlist, a playlist): drag an item to a new place and the new
// order is posted with the list's form (htmx swaps the list back). The keyboard's path is each
// item's Move up / Move down buttons; after the swap, focus returns to the button pressed.
// Plain ES module, no bundler; works on lists htmx swaps in.

let dragged = null;
let focusKey = null;

function setUp(root) {
  root.querySelectorAll?.("[data-reorder]").forEach((list) => {
    if (list.dataset.ready) return;
    list.dataset.ready = "1";
    list.addEventListener("dragstart", (event) => {
      dragged = event.target.closest("[data-reorder-item]");
      if (!dragged) return;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.reorderItem);
      dragged.classList.add("dragging");
    });
    list.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      const over = event.target.closest("[data-reorder-item]");
      if (!over || over === dragged || over.parentElement !== list) return;
      const box = over.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", (event) => {
      if (!dragged) return;
      event.preventDefault();
      send(list);
    });
    list.addEventListener("dragend", () => {
      dragged?.classList.remove("dragging");
      dragged = null;
    });
  });
}

function send(list) {
  const form = document.getElementById(list.dataset.reorder);
  if (!form) return;
  form.querySelectorAll('input[name="order"]').forEach((input) => input.remove());
  list.querySelectorAll("[data-reorder-item]").forEach((item) => {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "order";
    input.value = item.dataset.reorderItem;
    form.append(input);
  });
  form.requestSubmit();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-focus-key]");
  if (button) focusKey = button.dataset.focusKey;
});
document.addEventListener("htmx:load", (event) => {
  setUp(event.target);
  if (!focusKey) return;
  // The same button if the item can still move that way, else the other one of the item.
  const [way, id] = focusKey.split("-");
  const other = way === "up" ? "down" : "up";
  const target = document.querySelector(`[data-focus-key="${focusKey}"]`) ||
    document.querySelector(`[data-focus-key="${other}-${id}"]`);
  if (target && event.target.contains(target)) {
    target.focus();
    focusKey = null;
  }
});
setUp(document);
