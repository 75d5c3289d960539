// Administrators: the dead-letter queue (jobs that failed for good) — replay or discard each,
// with a note for the record — and the log of every such action.
import { api } from "../api.js";
import { formatDateTime, h, notify, replace } from "../dom.js";
import { empty, load } from "../ui.js";

export async function deadLettersPage(container) {
  await api.profileReady;
  if (api.user?.role !== "admin") {
    replace(container, h("h1", {}, "Dead letters"), h("p", { role: "alert" }, "This page is for administrators."));
    return;
  }
  const list = h("div");
  const log = h("div");
  replace(container, h("h1", {}, "Dead letters"),
    h("p", { class: "muted" }, "Background jobs that failed for good. Replay one once its cause is fixed, or discard it."),
    list, h("h2", {}, "Action log"), log);

  async function act(job, action, note) {
    try {
      const outcome = action === "replay"
        ? await api.request("POST", `/api/dlq/${job.id}/requeue`)
        : await api.request("DELETE", `/api/dlq/${job.id}`, { query: { note } });
      notify(action === "replay" ? `Replayed ${outcome.requeued.length} job.` : `Discarded ${outcome.discarded.length} job.`);
    } catch (error) { notify(error.message, { kind: "error" }); }
    refresh();
  }

  const buildList = async () => {
    const dead = await api.listAll("/api/dlq");
    if (!dead.length) return empty("No dead letters: every background job finished or is still being retried.");
    return h("div", { class: "table-wrap" }, h("table", { class: "dead-letters" },
      h("caption", { class: "visually-hidden" }, "Dead background jobs"),
      h("thead", {}, h("tr", {}, ["Job", "Attempts", "Died", "Last error", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, dead.map((job) => {
        const noteId = `note-${job.id}`;
        const note = h("input", { id: noteId, type: "text", maxlength: "500" });
        return h("tr", {},
          h("td", {}, `${job.kind} · ${job.task}`, h("br"), h("code", {}, job.id)),
          h("td", {}, String(job.attempts)),
          h("td", {}, formatDateTime(job.died_at)),
          h("td", {}, h("strong", {}, job.last_error_class || ""), " ", job.last_error || ""),
          h("td", { class: "actions-cell" },
            h("button", { type: "button", class: "primary", onclick: () => act(job, "replay") }, "Replay"),
            h("label", { for: noteId }, "Note for discarding"), note,
            h("button", { type: "button", class: "danger", onclick: () => act(job, "discard", note.value) }, "Discard")));
      }))));
  };
  const buildLog = async () => {
    const actions = await api.request("GET", "/api/dlq/actions", { query: { page_size: 50 } });
    if (!actions.length) return empty("No action yet.");
    return h("ul", { class: "rows", "aria-label": "Dead-letter actions" }, actions.map((a) => h("li", { class: "row" },
      h("strong", {}, a.action), h("code", {}, a.job_id), h("span", {}, `by ${a.actor} (${a.source})`),
      h("span", { class: "muted" }, formatDateTime(a.at)), a.note ? h("q", {}, a.note) : null)));
  };
  const refresh = () => Promise.all([load(list, buildList), load(log, buildLog)]);
  await refresh();
}
