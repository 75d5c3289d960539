// An analysis: ask for one, watch it go queued → running → done (polled with backoff), then the
// score, verdict, requirement table with the quoted resume lines, skills, suggestions, provenance.
import { api } from "../api.js";
import { formatDateTime, h, replace } from "../dom.js";
import { VERDICT_LABELS, empty } from "../ui.js";

const STATE_LABELS = {
  waiting: "Waiting for the resume's text", queued: "Queued", running: "Running",
  succeeded: "Done", failed: "Failed", dead: "Failed",
};
const FINISHED = new Set(["succeeded", "failed", "dead"]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll an analysis until it finishes, calling `onUpdate` on each change; stops when `alive()` is false. */
export async function watchAnalysis(analysis, onUpdate, alive) {
  let delay = 400;
  onUpdate(analysis);
  while (!FINISHED.has(analysis.state) && alive()) {
    await sleep(delay);
    delay = Math.min(delay * 1.5, 5000);
    const next = await api.request("GET", `/api/analyses/${analysis.id}`);
    if (next.state !== analysis.state || FINISHED.has(next.state)) onUpdate(next);
    analysis = next;
  }
  return analysis;
}

export function requestAnalysis(resumeId, jobId, force = false) {
  // One key per click: a retry after a 429/503 or a lost answer is the same request, not a second one.
  const key = crypto.randomUUID?.()
    ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  return api.request("POST", `/api/resumes/${resumeId}/analyze`, { json: { job_id: jobId, force },
                                                                   headers: { "Idempotency-Key": key } });
}

export function analysisView(analysis) {
  const state = h("p", { class: `analysis-state state-${analysis.state}`, role: "status" },
    "State: ", h("strong", { class: "state-value" }, STATE_LABELS[analysis.state] || analysis.state));
  if (!FINISHED.has(analysis.state)) return h("div", { class: "analysis" }, state);
  if (analysis.state !== "succeeded") {
    return h("div", { class: "analysis" }, state,
      h("p", { class: "error-text" }, analysis.failure_message || analysis.last_error || "The analysis could not be completed."));
  }
  const r = analysis.result;
  const p = analysis.provenance || {};
  return h("div", { class: "analysis" }, state,
    h("div", { class: "score-line" },
      h("p", { class: "score" }, h("span", { class: "score-value" }, String(r.score)), h("span", {}, " / 100")),
      h("p", { class: `verdict verdict-${r.verdict}` }, VERDICT_LABELS[r.verdict] || r.verdict)),
    h("p", { class: "summary" }, r.summary),
    h("h3", {}, "Requirements"),
    r.requirements.length ? h("div", { class: "table-wrap" }, h("table", { class: "requirements" },
      h("caption", { class: "visually-hidden" }, "Each requirement of the listing and the resume line that meets it"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Requirement"), h("th", { scope: "col" }, "Verdict"),
        h("th", { scope: "col" }, "From your resume"))),
      h("tbody", {}, r.requirements.map((req) => h("tr", {},
        h("td", {}, req.requirement),
        h("td", {}, h("span", { class: `pill pill-${req.verdict}` }, req.verdict)),
        h("td", {}, req.evidence ? h("q", {}, req.evidence) : h("span", { class: "muted" }, "Nothing found"))))))) : empty("No requirements found in the listing."),
    h("div", { class: "two-col" },
      list("Matched skills", r.matched_skills), list("Missing skills", r.missing_skills)),
    list("Strengths", r.strengths), list("Gaps", r.gaps), list("Suggestions", r.suggestions),
    h("p", { class: "provenance muted" },
      `Analyzer: ${p.analyzer || "?"} ${p.analyzer_version || ""}`,
      p.model ? ` · Model: ${p.model}` : "",
      p.cost_usd ? ` · Cost: $${p.cost_usd}` : "",
      ` · Finished ${formatDateTime(analysis.finished_at)}`));
}

function list(title, items) {
  return h("section", { class: "mini" }, h("h3", {}, title),
    items && items.length ? h("ul", {}, items.map((item) => h("li", {}, item))) : h("p", { class: "muted" }, "None"));
}

/** The panel to ask for an analysis and watch it; `initial` is the latest one, if any. */
export function analysisPanel({ resumeId, jobId, initial, alive, onFinished = () => {} }) {
  const body = h("div", { class: "analysis-body" });
  const button = h("button", { type: "button", class: "primary" }, initial ? "Analyse again" : "Analyse");
  const errorLine = h("p", { class: "error-text", role: "alert", hidden: true });
  const panel = h("section", { class: "panel", "aria-labelledby": "analysis-title" },
    h("h2", { id: "analysis-title" }, "Analysis"), errorLine, body, button);
  const show = (a) => replace(body, analysisView(a));
  button.addEventListener("click", async () => {
    button.disabled = true;
    errorLine.hidden = true;
    try {
      const started = await requestAnalysis(resumeId, jobId, Boolean(initial));
      initial = await watchAnalysis(started, show, alive);
      button.textContent = "Analyse again";
      onFinished(initial);
    } catch (error) {
      errorLine.textContent = error.message;
      errorLine.hidden = false;
    } finally { button.disabled = false; }
  });
  if (initial) watchAnalysis(initial, show, alive).catch(() => {});
  else replace(body, empty("No analysis yet."));
  return panel;
}
