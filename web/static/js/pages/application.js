// One application: stage and its history as a timeline, notes and tags, its listing and resume,
// its latest analysis; delete (restorable from the board's deleted view).
import { api } from "../api.js";
import { formatDateTime, h, notify, replace } from "../dom.js";
import { field, form, getStatuses, load, statusLabel } from "../ui.js";
import { analysisPanel } from "./analysis.js";

export async function applicationPage(container, id) {
  let alive = true;
  const content = h("div");
  replace(container, content);
  const build = async () => {
    const [statuses, application, history, resumes] = await Promise.all([
      getStatuses(), api.request("GET", `/api/applications/${id}`), api.request("GET", `/api/applications/${id}/history`),
      api.listAll("/api/resumes"),
    ]);
    const [resume, latest] = await Promise.all([
      application.resume_id ? api.request("GET", `/api/resumes/${application.resume_id}`).catch(() => null) : null,
      application.resume_id ? api.request("GET", `/api/applications/${id}/analysis`).catch(() => null) : null,
    ]);
    const title = `${application.job.company} — ${application.job.title}`;
    const timeline = h("ol", { class: "timeline", "aria-label": "Stage history" },
      history.map((change) => h("li", {},
        h("time", { datetime: change.changed_at }, formatDateTime(change.changed_at)), " ",
        change.from_status ? `${statusLabel(statuses, change.from_status)} → ` : "Created in ",
        h("strong", {}, statusLabel(statuses, change.to_status)))));
    return h("div", {},
      h("p", {}, h("a", { href: "#/board" }, "← Board")),
      h("h1", {}, title),
      h("div", { class: "grid" },
        h("section", { class: "panel", "aria-labelledby": "details-title" },
          h("h2", { id: "details-title" }, "Details"),
          form({
            label: "Application details",
            fields: [
              field({ label: "Stage", name: "status", value: application.status, options: statuses.map((s) => [s.slug, s.label]) }),
              field({ label: "Resume", name: "resume_id", value: application.resume_id || "",
                      options: [["", "None"], ...resumes.map((r) => [r.id, r.name])] }),
              field({ label: "Tags", name: "tags", value: application.tags.join(", "), hint: "Comma-separated" }),
              field({ label: "Notes", name: "notes", rows: 6, value: application.notes }),
            ],
            submitLabel: "Save",
            onSubmit: async (values) => {
              await api.request("PATCH", `/api/applications/${id}`, { json: {
                status: values.status, notes: values.notes, resume_id: values.resume_id || null,
                tags: values.tags.split(",").map((t) => t.trim()).filter(Boolean) } });
              notify("Saved.");
              load(content, build);
            },
          }),
          h("p", {}, "Listing: ", h("a", { href: `#/listings/${application.job.id}` }, title)),
          h("p", {}, "Resume: ", resume ? h("a", { href: `#/resumes/${resume.id}` }, resume.name) : "none"),
          h("button", { type: "button", class: "danger", onclick: async () => {
            await api.request("DELETE", `/api/applications/${id}`);
            notify("Application deleted. You can restore it from the board's deleted applications.");
            location.hash = "#/board";
          } }, "Delete application")),
        h("section", { class: "panel", "aria-labelledby": "history-title" },
          h("h2", { id: "history-title" }, "History"), timeline)),
      resume ? analysisPanel({ resumeId: resume.id, jobId: application.job.id, initial: latest, alive: () => alive })
        : h("p", { class: "muted" }, "Attach a resume to analyse how well it fits this listing."));
  };
  await load(content, build);
  return () => { alive = false; };
}
