// Buttons with data-copy="…" put that text on the clipboard ("Copy link").
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  navigator.clipboard.writeText(button.dataset.copy).then(function () {
    button.dataset.label = button.dataset.label || button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = button.dataset.label; }, 1500);
  });
});
