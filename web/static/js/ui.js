// Small reusable pieces: labelled fields whose API errors show next to them, forms, and the
// loading / empty / error states every page uses.
import { ApiError, api } from "./api.js";
import { h, nextId, replace } from "./dom.js";

/** A labelled control; `errorFor(name)` finds its error line. */
export function field({ label, name, type = "text", value = "", required = false, options = null, rows = 0,
                        hint = "", autocomplete = undefined, attrs = {} }) {
  const id = nextId(name);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  let control;
  if (options) {
    control = h("select", { id, name, required, "aria-describedby": describedBy, ...attrs },
      options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)));
  } else if (rows) {
    control = h("textarea", { id, name, rows, required, "aria-describedby": describedBy, ...attrs });
    control.value = value ?? "";
  } else {
    control = h("input", { id, name, type, required, autocomplete, "aria-describedby": describedBy, ...attrs });
    if (type === "checkbox") control.checked = Boolean(value); else control.value = value ?? "";
  }
  return h("div", { class: `field field-${type}`, dataset: { field: name } },
    h("label", { for: id }, label, required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "field-error", id: errorId, hidden: true }));
}

export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    values[el.name] = el.type === "checkbox" ? el.checked : el.value;
  }
  return values;
}

/** Show an API error: field messages beside their fields, the rest at the top of the form. */
export function showFormError(form, error) {
  clearFormErrors(form);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};
  let first = null;
  const unplaced = [];
  for (const [name, message] of Object.entries(fields)) {
    const wrapper = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!wrapper) { unplaced.push(`${name}: ${message}`); continue; }
    const line = wrapper.querySelector(".field-error");
    line.textContent = message;
    line.hidden = false;
    const control = wrapper.querySelector("input, select, textarea");
    control.setAttribute("aria-invalid", "true");
    first ||= control;
  }
  const summary = form.querySelector(".form-error");
  const message = error.message || "Something went wrong.";
  summary.textContent = unplaced.length ? `${message} ${unplaced.join(" ")}` : message;
  summary.hidden = false;
  (first || summary).focus?.();
}

export function clearFormErrors(form) {
  for (const line of form.querySelectorAll(".field-error")) { line.hidden = true; line.textContent = ""; }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  const summary = form.querySelector(".form-error");
  summary.hidden = true;
  summary.textContent = "";
}

/** A form whose submit calls `onSubmit(values)`; errors land next to their fields. */
export function form({ fields, submitLabel, onSubmit, label, extra = null, className = "" }) {
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const el = h("form", { class: `form ${className}`, "aria-label": label, novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: "-1", hidden: true }),
    fields, extra, h("div", { class: "actions" }, button));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors(el);
    button.disabled = true;
    el.setAttribute("aria-busy", "true");
    try {
      await onSubmit(formValues(el), el);
    } catch (error) {
      showFormError(el, error);
    } finally {
      button.disabled = false;
      el.removeAttribute("aria-busy");
    }
  });
  return el;
}

export const loading = (text = "Loading…") => h("p", { class: "loading", role: "status" }, text);
export const empty = (text) => h("p", { class: "empty" }, text);

export function errorState(error, retry) {
  return h("div", { class: "error-state", role: "alert" },
    h("p", {}, error.message || "Something went wrong."),
    retry ? h("button", { type: "button", onclick: retry }, "Try again") : null);
}

/** Render `build()` into `container`, with a loading state first and an error state on failure. */
export async function load(container, build, text) {
  replace(container, loading(text));
  try {
    replace(container, await build());
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);
    replace(container, errorState(error, () => load(container, build, text)));
  }
}

let statuses = null;
export async function getStatuses() {
  statuses ||= api.request("GET", "/api/statuses", { auth: false }).catch((error) => { statuses = null; throw error; });
  return statuses;
}

export function statusLabel(list, slug) {
  return (list.find((s) => s.slug === slug) || { label: slug }).label;
}

export const EXTRACTION_LABELS = {
  queued: "Queued", running: "Reading the file…", succeeded: "Text extracted", failed: "Could not read",
};

/** What an extraction failure means, in plain words. */
export const FAILURE_REASONS = {
  encrypted: "The file is password-protected. Remove the password (print or export it to a new PDF) and upload it again.",
  unsupported_type: "This is not a PDF, a Word (.docx) document or a text file, whatever its name says.",
  corrupt: "The file is damaged or incomplete and cannot be read. Export it again from the original.",
  zero_pages: "The PDF has no pages.",
  no_text_layer: "The PDF has no text to read: it looks like a scan or an image. Export it from the original document instead of scanning.",
  too_many_pages: "The document is too long for a resume.",
  too_large: "The document is too large or too complex to read in time.",
  processing_error: "Something went wrong while reading the file. Try uploading it again.",
};

export const VERDICT_LABELS = {
  strong_match: "Strong match", good_match: "Good match", partial_match: "Partial match", weak_match: "Weak match",
};
