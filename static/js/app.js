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

  // The customer list's attribute filter row submits the API's parameter names: the operator select has no
  // name, so name the value input after the chosen operator (attribute_value__startswith, …), or, for "has
  // attribute" and "lacks attribute", disable it and send the hidden attribute_exists=true/false instead.
  // A hidden extra condition under the same name gives way to the row, as the row now states it.
  function syncFilterRow(select) {
    const form = select.form;
    const input = form && form.querySelector("[data-filter-value]");
    const exists = form && form.querySelector("[data-filter-exists]");
    if (!input || !exists) return;
    const option = select.options[select.selectedIndex];
    const existsValue = option ? option.dataset.exists || "" : "";
    if (option && option.dataset.param) input.name = option.dataset.param;
    input.disabled = Boolean(existsValue);
    input.placeholder = existsValue ? "no value needed" : "value (is one of: a,b,c)";
    exists.disabled = !existsValue;
    if (existsValue) exists.value = existsValue;
    const active = existsValue ? exists.name : input.name;
    form.querySelectorAll("[data-filter-extra]").forEach(function (extra) {
      extra.disabled = extra.name === active;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-filter-op]")) syncFilterRow(event.target);
  });
  // Also when the browser restored a changed select (back button), so the inputs match what it shows.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-filter-op]").forEach(syncFilterRow);
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
      const name = event.detail.target.querySelector("input[name=attribute_name][list]");
      if (name) updateNameHint(name);
    }
  });

  // Bootstrap's focus trap focuses the dialog itself once the fade ends: give the focus back to the field the
  // fragment focused, or keystrokes typed during the fade (a fast typist, a browser test) would be lost.
  document.addEventListener("shown.bs.modal", function (event) {
    if (event.target.id !== "attribute-modal" || document.activeElement !== event.target) return;
    const field = event.target.querySelector("input:not([type=hidden]), textarea, select");
    if (!field) return;
    field.focus();
    if (typeof field.setSelectionRange === "function" && typeof field.value === "string") {
      try {
        field.setSelectionRange(field.value.length, field.value.length); // after what was typed, not before it
      } catch (error) {
        // inputs without a text selection (number, email) keep the browser's caret
      }
    }
  });

  // A write succeeded: the server swapped in the new table; close the modal.
  document.addEventListener("attributesChanged", function () {
    const instance = modal();
    if (instance) instance.hide();
  });

  // The attribute registry in the Add/Edit modal: as the user types a name, show what a defined one means and
  // which format its value needs (carried by the name's <datalist> option), and suggest its example as placeholder.
  function registryHint(input, name) {
    const option = Array.from(input.list.options).find(function (candidate) {
      return candidate.value === name;
    });
    return option ? option.dataset : null;
  }

  function updateNameHint(input) {
    const box = input.form && input.form.querySelector("#name-hint");
    if (!box || !input.list) return;
    const name = input.value.trim();
    const hint = registryHint(input, name);
    const defined = box.querySelector(".name-hint-defined");
    const description = box.querySelector(".name-hint-description");
    defined.hidden = !hint;
    box.querySelector(".name-hint-undefined").hidden = Boolean(hint) || !name || box.dataset.registryRequired !== "true";
    if (hint) {
      description.textContent = hint.description;
      description.hidden = !hint.description;
      box.querySelector(".name-hint-format").textContent = hint.format;
    }
    const value = input.form.elements.namedItem("attribute_value");
    if (value) {
      if (value.dataset.defaultPlaceholder === undefined) value.dataset.defaultPlaceholder = value.placeholder;
      value.placeholder = hint ? hint.example || "" : value.dataset.defaultPlaceholder;
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.name === "attribute_name" && event.target.list) updateNameHint(event.target);
  });

  // The Registry's definition form: the list of choices and the pattern only matter for their own type.
  function syncDefinitionType(select) {
    select.form.querySelectorAll("[data-shown-for-type]").forEach(function (wrapper) {
      wrapper.hidden = wrapper.dataset.shownForType !== select.value;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches(".registry-form [name=value_type]")) syncDefinitionType(event.target);
  });
  document.querySelectorAll(".registry-form [name=value_type]").forEach(syncDefinitionType);

  // Descriptions of defined names in the table: a Bootstrap tooltip on hover and on keyboard focus (the
  // element's title is the fallback without JavaScript). Delegated from the body, so a table that htmx has
  // just swapped in has working tooltips at once; drop the tooltips of elements about to be replaced so
  // none is left floating.
  if (window.bootstrap) {
    new bootstrap.Tooltip(document.body, { selector: '[data-bs-toggle="tooltip"]' });
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!window.bootstrap || !event.detail.target) return;
    event.detail.target.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (element) {
      const tooltip = bootstrap.Tooltip.getInstance(element);
      if (tooltip) tooltip.dispose();
    });
  });

  // A revealed sensitive value (attributes/_revealed.html) hides again after its data-rehide seconds: the masked
  // content it replaced is kept and put back, with its Reveal control working again.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (target && target.classList.contains("attr-sensitive") && !target.dataset.masked) {
      target.dataset.masked = target.innerHTML;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    const revealed = target && target.querySelector(".attr-revealed[data-rehide]");
    if (!revealed || !target.dataset.masked) return;
    window.setTimeout(function () {
      target.innerHTML = target.dataset.masked;
      delete target.dataset.masked;
      if (window.htmx) window.htmx.process(target);
    }, Number(revealed.dataset.rehide) * 1000);
  });

  // Clear the modal when it closes, so a stale form never flashes on the next open.
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id === "attribute-modal") {
      document.getElementById("attribute-modal-content").replaceChildren();
    }
  });
})();
