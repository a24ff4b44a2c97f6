// Project behaviour. A static file, never inline, so a strict Content-Security-Policy holds.
"use strict";

(function () {
  // Characters as Python counts them (code points), so "é" or an emoji counts once.
  function charLength(text) {
    return Array.from(text).length;
  }

  function updateCount(input) {
    const counter = document.querySelector(`[data-count-for="${input.id}"]`);
    if (!counter) return;
    const limit = Number(input.dataset.charLimit);
    const length = charLength(input.value);
    counter.querySelector(".char-count-value").textContent = String(length);
    counter.classList.toggle("text-danger", length > limit);
    counter.classList.toggle("fw-semibold", length > limit);
  }

  function updateRenameNote(input) {
    const note = input.form && input.form.querySelector(".rename-note");
    if (note) note.hidden = input.value.trim() === note.dataset.originalName;
  }

  document.addEventListener("input", function (event) {
    const input = event.target;
    if (input.matches("[data-char-limit]")) updateCount(input);
    if (input.name === "attribute_name") updateRenameNote(input);
  });

  function modal() {
    const element = document.getElementById("attribute-modal");
    return element ? bootstrap.Modal.getOrCreateInstance(element) : null;
  }

  // A form fragment arrived in the modal: show it and focus its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "attribute-modal-content") {
      const instance = modal();
      if (instance) instance.show();
      const field = event.detail.target.querySelector("input:not([type=hidden]), textarea, select");
      if (field) field.focus();
    }
  });

  // A write succeeded: the server swapped in the new table; close the modal.
  document.addEventListener("attributesChanged", function () {
    const instance = modal();
    if (instance) instance.hide();
  });

  // Clear the modal when it closes, so a stale form never flashes on the next open.
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id === "attribute-modal") {
      document.getElementById("attribute-modal-content").replaceChildren();
    }
  });
})();
