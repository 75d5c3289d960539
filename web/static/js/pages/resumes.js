// Resumes: upload by picking or dropping a file (with progress), the extraction state as it
// changes, a failure's reason in plain words, the extracted text, the original file, analyses.
import { api } from "../api.js";
import { formatDate, formatDateTime, h, notify, replace } from "../dom.js";
import { EXTRACTION_LABELS, FAILURE_REASONS, VERDICT_LABELS, empty, field, load } from "../ui.js";
import { analysisPanel } from "./analysis.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const extracting = (resume) => resume.extraction_status === "queued" || resume.extraction_status === "running";

export function failureText(resume) {
  return FAILURE_REASONS[resume.failure_reason] || resume.failure_message || "The file could not be read.";
}

function statusBadge(resume) {
  return h("span", { class: `badge status-${resume.extraction_status}` }, EXTRACTION_LABELS[resume.extraction_status] || resume.extraction_status);
}

export async function resumesPage(container) {
  let alive = true;
  const list = h("div");
  const progress = h("progress", { max: "1", value: "0", hidden: true, "aria-label": "Upload progress" });
  const status = h("p", { role: "status", class: "upload-status" });
  const uploadError = h("p", { class: "error-text", role: "alert", hidden: true });
  const input = h("input", { type: "file", id: "resume-file", accept: ".pdf,.docx,.txt,application/pdf", class: "visually-hidden-input" });
  const zone = h("div", { class: "drop-zone" },
    h("p", {}, "Drop a resume here, or "),
    h("label", { for: "resume-file", class: "button" }, "choose a file"), input,
    h("p", { class: "hint" }, "PDF, Word (.docx) or plain text, up to 5 MB."), progress, status, uploadError);

  async function upload(file) {
    uploadError.hidden = true;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = `Uploading ${file.name}…`;
    const data = new FormData();
    data.append("file", file);
    try {
      const resume = await api.upload("/api/resumes", data, (fraction) => { progress.value = fraction; });
      status.textContent = `Uploaded ${file.name}. Reading it…`;
      location.hash = `#/resumes/${resume.id}`;
    } catch (error) {
      status.textContent = "";
      uploadError.textContent = error.status === 413 ? "This file is too large: the limit is 5 MB." : error.message;
      uploadError.hidden = false;
    } finally { progress.hidden = true; }
  }
  input.addEventListener("change", () => input.files[0] && upload(input.files[0]));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("drop-target"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("drop-target"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drop-target");
    const file = event.dataTransfer.files[0];
    if (file) upload(file);
  });

  const build = async () => {
    const resumes = await api.listAll("/api/resumes");
    if (!resumes.length) return empty("No resumes yet. Upload one above.");
    if (resumes.some(extracting)) setTimeout(() => alive && load(list, build, null), 1500);
    return h("ul", { class: "rows", "aria-label": "Your resumes" }, resumes.map((r) => h("li", { class: "row" },
      h("a", { href: `#/resumes/${r.id}` }, r.name), statusBadge(r),
      h("span", { class: "muted" }, `uploaded ${formatDate(r.created_at)}`))));
  };
  replace(container, h("h1", {}, "Resumes"), h("section", { class: "panel", "aria-label": "Upload a resume" }, zone),
    h("h2", {}, "Your resumes"), list);
  await load(list, build);
  return () => { alive = false; };
}

export async function resumePage(container, id) {
  let alive = true;
  const head = h("div");
  const analysisArea = h("div");
  replace(container, h("p", {}, h("a", { href: "#/resumes" }, "← Resumes")), head, analysisArea);

  async function download(resume) {
    const response = await api.request("GET", `/api/resumes/${id}/file`, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: resume.original_filename || resume.name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  let resume = await api.request("GET", `/api/resumes/${id}`).catch((error) => { replace(head, h("p", { role: "alert" }, error.message)); return null; });
  if (!resume) return () => {};
  const stateLine = h("p", { class: "extraction", role: "status" });
  const body = h("div");
  const renderResume = () => {
    replace(stateLine, "Extraction: ", h("strong", { class: "extraction-status" }, EXTRACTION_LABELS[resume.extraction_status]));
    if (resume.extraction_status === "failed") {
      replace(body, h("div", { class: "failure", role: "alert" },
        h("p", { class: "failure-reason" }, failureText(resume)),
        h("p", { class: "muted" }, `(reason: ${resume.failure_reason || "unknown"})`)));
    } else if (resume.extraction_status === "succeeded") {
      replace(body, h("p", { class: "muted" }, `${resume.page_count ?? "?"} pages, ${resume.word_count ?? "?"} words`),
        h("details", {}, h("summary", {}, "Extracted text"), h("pre", { class: "text resume-text" }, resume.text || "")));
    } else replace(body, h("p", { class: "loading" }, "Reading the file… this page updates by itself."));
  };
  replace(head, h("h1", {}, resume.name),
    h("p", {}, h("button", { type: "button", onclick: () => download(resume).catch((e) => notify(e.message, { kind: "error" })) },
      "Download the original")),
    stateLine, body);
  renderResume();

  watchAndAnalyse().catch((error) => alive && replace(analysisArea, h("p", { role: "alert" }, error.message)));
  return () => { alive = false; };

  async function watchAndAnalyse() {
    let delay = 400;
    while (alive && extracting(resume)) {
      await sleep(delay);
      delay = Math.min(delay * 1.5, 4000);
      resume = await api.request("GET", `/api/resumes/${id}`);
      renderResume();
    }
    if (!alive || resume.extraction_status !== "succeeded") return;

    await load(analysisArea, async () => {
      const [jobs, older] = await Promise.all([api.listAll("/api/jobs"), api.request("GET", `/api/resumes/${id}/analyses`, { query: { page_size: 20 } })]);
      if (!jobs.length) return empty("Add a job listing to analyse this resume against it.");
      const slot = h("div");
      const picker = field({ label: "Analyse against", name: "job_id", options: jobs.map((j) => [j.id, `${j.company} — ${j.title}`]) });
      const showPanel = async () => {
        const jobId = picker.querySelector("select").value;
        const latest = await api.request("GET", `/api/resumes/${id}/analysis/${jobId}`).catch(() => null);
        replace(slot, analysisPanel({ resumeId: id, jobId, initial: latest, alive: () => alive }));
      };
      picker.querySelector("select").addEventListener("change", showPanel);
      await showPanel();
      const byJob = Object.fromEntries(jobs.map((j) => [j.id, `${j.company} — ${j.title}`]));
      return h("div", {}, picker, slot,
        h("section", { class: "panel", "aria-labelledby": "older-title" }, h("h2", { id: "older-title" }, "Earlier analyses"),
          older.length ? h("ul", { class: "rows" }, older.map((a) => h("li", { class: "row" },
            h("span", {}, byJob[a.job_id] || "A deleted listing"),
            h("span", {}, a.result ? `${a.result.score}/100 · ${VERDICT_LABELS[a.result.verdict]}` : a.state),
            h("span", { class: "muted" }, formatDateTime(a.created_at))))) : empty("None yet.")));
    });
  }
}
