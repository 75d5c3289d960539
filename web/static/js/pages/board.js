// The board: one column per stage in the API's order, counts in the headings. A card moves by
// drag and drop, or by keyboard: focus it, Space to pick it up, ←/→ to choose a stage, Space or
// Enter to drop it there (Escape puts it back). Its stage menu does the same in one step.
import { api } from "../api.js";
import { formatDate, h, notify, replace } from "../dom.js";
import { empty, errorState, field, form, getStatuses, loading, statusLabel } from "../ui.js";

export async function boardPage(container) {
  const filters = { q: "", company: "", tag: "", applied_from: "", applied_to: "", needs_follow_up: false, deleted: false };
  const boardArea = h("div", { class: "board-area" });
  const live = h("p", { class: "visually-hidden", "aria-live": "assertive" });
  let statuses = [];
  let applications = [];

  const filterForm = h("form", { class: "filters", role: "search", "aria-label": "Filter applications" },
    field({ label: "Search", name: "q", type: "search", hint: "" }),
    field({ label: "Company", name: "company" }),
    field({ label: "Tag", name: "tag" }),
    field({ label: "Applied from", name: "applied_from", type: "date" }),
    field({ label: "Applied to", name: "applied_to", type: "date" }),
    field({ label: "Needs follow-up", name: "needs_follow_up", type: "checkbox" }),
    field({ label: "Deleted applications", name: "deleted", type: "checkbox" }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters")));
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const el of filterForm.elements) if (el.name) filters[el.name] = el.type === "checkbox" ? el.checked : el.value;
    refresh();
  });

  const addArea = h("div", { class: "add-area" });
  const addButton = h("button", { type: "button", class: "primary", "aria-expanded": "false", onclick: toggleAdd },
    "Add application");

  replace(container,
    h("div", { class: "page-head" }, h("h1", {}, "Board"), addButton),
    addArea,
    // Folded at phone width, where the filters would fill the screen before the first card.
    h("details", { class: "filters-box", open: window.matchMedia("(min-width: 641px)").matches },
      h("summary", {}, "Search and filters"), filterForm),
    live, boardArea);

  async function toggleAdd() {
    if (addArea.firstChild) { replace(addArea); addButton.setAttribute("aria-expanded", "false"); return; }
    addButton.setAttribute("aria-expanded", "true");
    replace(addArea, loading());
    try {
      const [jobs, resumes] = await Promise.all([api.listAll("/api/jobs"), api.listAll("/api/resumes")]);
      if (!jobs.length) {
        replace(addArea, empty("Add a job listing first: "), h("a", { href: "#/listings" }, "Listings"));
        return;
      }
      replace(addArea, form({
        label: "New application", className: "card-form",
        fields: [
          field({ label: "Job listing", name: "job_id", required: true,
                  options: jobs.map((j) => [j.id, `${j.company} — ${j.title}`]) }),
          field({ label: "Resume", name: "resume_id", value: resumes[0]?.id || "",
                  options: [["", "None"], ...resumes.map((r) => [r.id, r.name])] }),
          field({ label: "Stage", name: "status", options: statuses.map((s) => [s.slug, s.label]), value: "wishlist" }),
          field({ label: "Tags", name: "tags", hint: "Comma-separated" }),
          field({ label: "Notes", name: "notes", rows: 3 }),
        ],
        submitLabel: "Add to board",
        onSubmit: async (values) => {
          const json = { job_id: values.job_id, status: values.status, notes: values.notes,
                         tags: values.tags.split(",").map((t) => t.trim()).filter(Boolean) };
          if (values.resume_id) json.resume_id = values.resume_id;
          await api.request("POST", "/api/applications", { json });
          notify("Application added.");
          replace(addArea);
          addButton.setAttribute("aria-expanded", "false");
          refresh();
        },
      }));
    } catch (error) { replace(addArea, errorState(error, toggleAdd)); }
  }

  async function refresh() {
    replace(boardArea, loading("Loading your applications…"));
    try {
      const query = {};
      for (const [key, value] of Object.entries(filters)) {
        if (value === "" || value === false) continue;
        query[key] = key.startsWith("applied_") ? new Date(`${value}T${key === "applied_to" ? "23:59:59" : "00:00:00"}`).toISOString() : value;
      }
      if (filters.deleted) query.deleted = true;
      [statuses, applications] = await Promise.all([getStatuses(), api.listAll("/api/applications", query)]);
      render();
    } catch (error) { replace(boardArea, errorState(error, refresh)); }
  }

  function render() {
    if (filters.deleted) { renderDeleted(); return; }
    if (!applications.length && !Object.values(filters).some(Boolean)) {
      replace(boardArea, empty("No applications yet. Add a job listing, then add an application to start your board."));
      return;
    }
    const byStatus = Object.fromEntries(statuses.map((s) => [s.slug, []]));
    for (const application of applications) (byStatus[application.status] ||= []).push(application);
    const columns = statuses.map((status) => {
      const items = byStatus[status.slug];
      const headingId = `col-${status.slug}`;
      const list = h("ol", { class: "cards", "aria-labelledby": headingId }, items.map(card));
      const column = h("section", { class: "column", dataset: { status: status.slug }, "aria-labelledby": headingId },
        h("h2", { id: headingId }, status.label, " ", h("span", { class: "count", "aria-label": `${items.length} applications` }, String(items.length))),
        items.length ? list : h("p", { class: "empty column-empty" }, "Nothing here"));
      column.addEventListener("dragover", (event) => { event.preventDefault(); column.classList.add("drop-target"); });
      column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
      column.addEventListener("drop", (event) => {
        event.preventDefault();
        column.classList.remove("drop-target");
        const id = event.dataTransfer.getData("text/plain");
        if (id) move(id, status.slug);
      });
      return column;
    });
    const shown = applications.length ? `${applications.length} application${applications.length === 1 ? "" : "s"}.`
      : "No application matches these filters.";
    replace(boardArea,
      h("p", { class: "board-help", id: "board-help" },
        `${shown} Drag a card to another column, or focus a card and press Space, then ← or → and Space to move it.`),
      h("div", { class: "board" }, columns));
  }

  function card(application) {
    const title = `${application.job.company} — ${application.job.title}`;
    const el = h("li", { class: "card", tabindex: "0", draggable: "true", dataset: { id: application.id },
                         "aria-describedby": "board-help", "aria-label": `${title}, ${statusLabel(statuses, application.status)}` },
      h("a", { href: `#/applications/${application.id}`, class: "card-title" }, title),
      h("p", { class: "card-meta" }, application.applied_at ? `Applied ${formatDate(application.applied_at)}` : "Not applied yet",
        application.needs_follow_up ? h("span", { class: "badge badge-warning" }, "Follow up") : null),
      application.tags.length ? h("ul", { class: "tags", "aria-label": "Tags" }, application.tags.map((t) => h("li", {}, t))) : null,
      stageMenu(application, title));
    el.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", application.id);
      event.dataTransfer.effectAllowed = "move";
      el.classList.add("dragging");
    });
    el.addEventListener("dragend", () => el.classList.remove("dragging"));
    el.addEventListener("keydown", (event) => keyboardMove(event, el, application));
    return el;
  }

  // The card's stage menu holds only its current stage until it is used: 200 cards × 9 stages
  // of <option> would be most of the board's drawing time.
  function stageMenu(application, title) {
    const select = h("select", { class: "stage-select", "aria-label": `Stage of ${title}` },
      h("option", { value: application.status }, statusLabel(statuses, application.status)));
    const fill = () => {
      if (select.options.length > 1) return;
      replace(select, statuses.map((s) => h("option", { value: s.slug, selected: s.slug === application.status }, s.label)));
    };
    select.addEventListener("focus", fill);
    select.addEventListener("pointerdown", fill);
    select.addEventListener("change", () => move(application.id, select.value));
    return h("label", { class: "stage-menu" }, h("span", { "aria-hidden": "true" }, "Stage "), select);
  }

  let grabbed = null; // {id, index}
  function keyboardMove(event, el, application) {
    if (event.target !== el) return; // keys inside the card's link or menu are theirs
    const index = statuses.findIndex((s) => s.slug === application.status);
    if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      if (!grabbed) {
        grabbed = { id: application.id, index, from: index };
        el.classList.add("grabbed");
        el.setAttribute("aria-grabbed", "true");
        live.textContent = `Picked up ${application.job.company}. In ${statuses[index].label}. Use left and right arrows, then Space to drop.`;
      } else {
        const target = statuses[grabbed.index].slug;
        grabbed = null;
        el.classList.remove("grabbed");
        if (target !== application.status) move(application.id, target, true);
        else live.textContent = "Dropped in the same stage.";
      }
    } else if (grabbed && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
      event.preventDefault();
      grabbed.index = Math.min(Math.max(grabbed.index + (event.key === "ArrowRight" ? 1 : -1), 0), statuses.length - 1);
      for (const column of boardArea.querySelectorAll(".column")) column.classList.remove("drop-target");
      boardArea.querySelector(`.column[data-status="${statuses[grabbed.index].slug}"]`)?.classList.add("drop-target");
      live.textContent = `Over ${statuses[grabbed.index].label}.`;
    } else if (grabbed && event.key === "Escape") {
      grabbed = null;
      el.classList.remove("grabbed");
      for (const column of boardArea.querySelectorAll(".column")) column.classList.remove("drop-target");
      live.textContent = "Move cancelled.";
    }
  }

  async function move(id, status, refocus = false) {
    const application = applications.find((a) => a.id === id);
    if (!application || application.status === status) return;
    const previous = application.status;
    application.status = status; // optimistic; put back if the API refuses
    render();
    try {
      const updated = await api.request("PATCH", `/api/applications/${id}`, { json: { status } });
      Object.assign(application, updated);
      live.textContent = `Moved ${application.job.company} to ${statusLabel(statuses, status)}.`;
    } catch (error) {
      application.status = previous;
      notify(`Could not move it: ${error.message}`, { kind: "error" });
    }
    render();
    if (refocus) boardArea.querySelector(`.card[data-id="${id}"]`)?.focus();
  }

  function renderDeleted() {
    if (!applications.length) { replace(boardArea, empty("No deleted applications.")); return; }
    replace(boardArea, h("section", { "aria-labelledby": "deleted-title" },
      h("h2", { id: "deleted-title" }, "Deleted applications"),
      h("ul", { class: "rows" }, applications.map((a) => h("li", { class: "row" },
        h("span", {}, `${a.job.company} — ${a.job.title} (deleted ${formatDate(a.deleted_at)})`),
        h("button", { type: "button", onclick: async () => {
          await api.request("POST", `/api/applications/${a.id}/restore`);
          notify("Application restored.");
          refresh();
        } }, "Restore"))))));
  }

  await refresh();
}
