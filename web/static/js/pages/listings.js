// Job listings: create one by pasting its description, edit it, delete it (the API refuses with
// 409 while applications use it, and the page says so).
import { api } from "../api.js";
import { formatDate, h, notify, replace } from "../dom.js";
import { empty, field, form, load } from "../ui.js";

function listingFields(job = {}) {
  return [
    field({ label: "Company", name: "company", required: true, value: job.company }),
    field({ label: "Job title", name: "title", required: true, value: job.title }),
    field({ label: "Job description", name: "description", rows: 10, value: job.description,
            hint: "Paste the whole listing: the analysis reads its requirements from it." }),
    field({ label: "Link to the listing", name: "url", type: "url", value: job.url, hint: "https://…" }),
    field({ label: "Location", name: "location", value: job.location }),
  ];
}

function listingBody(values) {
  const json = { company: values.company, title: values.title, description: values.description };
  json.url = values.url.trim() || null;
  json.location = values.location.trim() || null;
  return json;
}

export async function listingsPage(container) {
  const list = h("div");
  const build = async () => {
    const jobs = await api.listAll("/api/jobs");
    if (!jobs.length) return empty("No listings yet. Paste your first job description above.");
    return h("ul", { class: "rows", "aria-label": "Your listings" }, jobs.map((job) => h("li", { class: "row" },
      h("a", { href: `#/listings/${job.id}` }, `${job.company} — ${job.title}`),
      h("span", { class: "muted" }, `added ${formatDate(job.created_at)}`))));
  };
  replace(container,
    h("h1", {}, "Listings"),
    h("details", { class: "panel", open: true },
      h("summary", {}, "Add a listing"),
      form({
        label: "Add a listing", fields: listingFields(), submitLabel: "Save listing",
        onSubmit: async (values, el) => {
          await api.request("POST", "/api/jobs", { json: listingBody(values) });
          el.reset();
          notify("Listing saved.");
          load(list, build);
        },
      })),
    h("h2", {}, "Your listings"), list);
  await load(list, build);
}

export async function listingPage(container, id) {
  await load(container, async () => {
    const job = await api.request("GET", `/api/jobs/${id}`);
    const deleteError = h("p", { class: "error-text", role: "alert", hidden: true });
    return h("div", {},
      h("p", {}, h("a", { href: "#/listings" }, "← Listings")),
      h("h1", {}, `${job.company} — ${job.title}`),
      job.url ? h("p", {}, h("a", { href: job.url, rel: "noopener noreferrer", target: "_blank" }, "Open the original listing")) : null,
      h("section", { class: "panel", "aria-labelledby": "edit-title" },
        h("h2", { id: "edit-title" }, "Edit"),
        form({
          label: "Edit listing", fields: listingFields(job), submitLabel: "Save changes",
          onSubmit: async (values) => {
            await api.request("PATCH", `/api/jobs/${id}`, { json: listingBody(values) });
            notify("Listing saved.");
          },
        })),
      h("section", { class: "panel", "aria-labelledby": "description-title" },
        h("h2", { id: "description-title" }, "Description"),
        h("pre", { class: "text" }, job.description || "No description.")),
      deleteError,
      h("button", { type: "button", class: "danger", onclick: async () => {
        deleteError.hidden = true;
        try {
          await api.request("DELETE", `/api/jobs/${id}`);
          notify("Listing deleted.");
          location.hash = "#/listings";
        } catch (error) {
          deleteError.textContent = error.status === 409
            ? `This listing cannot be deleted while applications use it: delete those applications first. (${error.message})`
            : error.message;
          deleteError.hidden = false;
        }
      } }, "Delete listing"));
  });
}
