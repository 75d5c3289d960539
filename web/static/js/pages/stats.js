// Stats: applications by stage and by week, mean days in each stage. Each chart is also a table
// (visually a bar chart, read by screen readers as the numbers it shows).
import { api } from "../api.js";
import { formatDate, h, replace } from "../dom.js";
import { empty, getStatuses, load, statusLabel } from "../ui.js";

function barChart(caption, rows, unit) {
  const max = Math.max(1, ...rows.map(([, value]) => value || 0));
  return h("table", { class: "chart" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Label"), h("th", { scope: "col" }, unit))),
    h("tbody", {}, rows.map(([label, value]) => {
      const bar = h("span", { class: "bar" });
      bar.style.width = `${((value || 0) / max) * 100}%`; // CSSOM, allowed by the CSP (no inline style attribute)
      return h("tr", {}, h("th", { scope: "row" }, label),
        h("td", {}, h("span", { class: "bar-track" }, bar), h("span", { class: "bar-value" }, value === null ? "—" : String(value))));
    })));
}

export async function statsPage(container) {
  const body = h("div");
  replace(container, h("h1", {}, "Stats"), body);
  await load(body, async () => {
    const [statuses, stats] = await Promise.all([getStatuses(), api.request("GET", "/api/applications/stats")]);
    if (!stats.total) return empty("No applications yet: stats appear once you add some.");
    return h("div", { class: "stats" },
      h("p", { class: "total" }, `${stats.total} applications in total`),
      barChart("Applications by stage", stats.by_status.map((s) => [statusLabel(statuses, s.status), s.count]), "Applications"),
      stats.by_week.length ? barChart("Applications sent per week",
        stats.by_week.map((w) => [`Week of ${formatDate(w.week_start)}`, w.count]), "Applications") : empty("No application sent yet."),
      barChart("Mean days spent in each stage", stats.time_in_stage.map((s) => [statusLabel(statuses, s.status),
        s.mean_days === null ? null : Math.round(s.mean_days * 10) / 10]), "Days"));
  });
}
