// The one API client: every call goes through request(). The access token lives in memory only;
// the refresh token is an HttpOnly cookie sent to /api/auth/session and nowhere else, so no page
// script can read it. A 401 refreshes once and retries; if the session has ended, the page asks
// the user to sign in again (in a dialog, so what they were typing stays) and then retries.
// 429 and 503 answers are shown as "try again in N seconds" and retried when Retry-After says.

const SESSION = "/api/auth/session";
const MAX_AUTOMATIC_WAIT = 120; // seconds; beyond that the error is shown, not waited out
const MAX_RETRIES = 3;

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.errors = (body && body.errors) || {};
    this.retryAfter = retryAfter;
  }

  /** Messages by field name, from {json: {field: [...]}, query: {...}, files: {...}}. */
  fieldErrors() {
    const out = {};
    for (const location of Object.values(this.errors)) {
      if (!location || typeof location !== "object") continue;
      for (const [field, messages] of Object.entries(location)) {
        out[field] = Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages);
      }
    }
    return out;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)applytrack_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class ApiClient {
  constructor() {
    this.accessToken = null;
    this.user = null;
    this.onSignInNeeded = async () => { throw new ApiError(401, { message: "Please sign in." }); };
    this.onWait = () => () => {};
    this.refreshing = null;
    this.profileReady = Promise.resolve(null);
  }

  get signedIn() { return Boolean(this.accessToken); }

  async signIn(email, password) {
    const body = await this.request("POST", SESSION, { json: { email, password }, auth: false });
    this.accessToken = body.access_token;
    this.profileReady = this.request("GET", "/api/user/profile").then((user) => { this.user = user; return user; });
    return this.profileReady;
  }

  async register(email, password, displayName) {
    const json = { email, password };
    if (displayName) json.display_name = displayName;
    await this.request("POST", "/api/auth/register", { json, auth: false });
    return this.signIn(email, password);
  }

  /** Restore the session after a reload, from the cookie. The profile loads alongside the
   *  first page (`profileReady`), not before it. */
  async resume() {
    if (!csrfToken() || !(await this.refresh())) return false;
    this.profileReady = this.request("GET", "/api/user/profile").then((user) => { this.user = user; return user; });
    return true;
  }

  async signOut() {
    try {
      await fetch(SESSION, { method: "DELETE", headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin" });
    } finally {
      this.accessToken = null;
      this.user = null;
      this.profileReady = Promise.resolve(null);
    }
  }

  refresh() {
    // One refresh at a time, shared by every request that got a 401 meanwhile.
    this.refreshing ||= (async () => {
      try {
        const response = await fetch(`${SESSION}/refresh`, {
          method: "POST", headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin",
        });
        if (!response.ok) { this.accessToken = null; return false; }
        this.accessToken = (await response.json()).access_token;
        return true;
      } catch { return false; } finally { this.refreshing = null; }
    })();
    return this.refreshing;
  }

  /** JSON in, JSON out. Returns the parsed body; `withHeaders` returns {body, headers}. */
  async request(method, path, { json, query, headers = {}, auth = true, withHeaders = false, raw = false } = {}) {
    let url = path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value === undefined || value === null || value === "") continue;
        for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
      if (json !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(json); }
      if (auth && this.accessToken) init.headers.Authorization = `Bearer ${this.accessToken}`;
      let response;
      try {
        response = await fetch(url, init);
      } catch {
        throw new ApiError(0, { message: "The server cannot be reached. Check your connection and try again." });
      }
      if (response.status === 401 && auth) {
        if (!refreshed && (await this.refresh())) { refreshed = true; continue; }
        await this.onSignInNeeded();
        refreshed = true;
        continue;
      }
      if ((response.status === 429 || response.status === 503) && attempt < MAX_RETRIES) {
        const seconds = parseInt(response.headers.get("Retry-After") || "", 10);
        if (Number.isFinite(seconds) && seconds <= MAX_AUTOMATIC_WAIT) {
          const body = await response.json().catch(() => ({}));
          await this.waitOut(seconds, body.message);
          continue;
        }
      }
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        const retryAfter = parseInt(response.headers.get("Retry-After") || "", 10);
        const error = new ApiError(response.status, body, Number.isFinite(retryAfter) ? retryAfter : null);
        if (error.retryAfter !== null) error.message += ` Try again in ${error.retryAfter} seconds.`;
        throw error;
      }
      if (raw) return response;
      const body = response.status === 204 ? null : await response.json();
      return withHeaders ? { body, headers: response.headers } : body;
    }
  }

  async waitOut(seconds, message) {
    const done = this.onWait(seconds, message);
    await sleep(Math.max(seconds, 1) * 1000);
    done();
  }

  /** Every page of a paginated list, the pages after the first fetched in parallel. */
  async listAll(path, query = {}) {
    const pageSize = 100;
    const first = await this.request("GET", path, { query: { ...query, page: 1, page_size: pageSize }, withHeaders: true });
    const pagination = JSON.parse(first.headers.get("X-Pagination") || "{}");
    const pages = pagination.total_pages || 1;
    const rest = [];
    for (let page = 2; page <= pages; page++) {
      rest.push(this.request("GET", path, { query: { ...query, page, page_size: pageSize } }));
    }
    return first.body.concat(...(await Promise.all(rest)));
  }

  /** Multipart upload with progress (fetch cannot report upload progress). */
  upload(path, formData, onProgress, retried = false) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      if (this.accessToken) xhr.setRequestHeader("Authorization", `Bearer ${this.accessToken}`);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
      xhr.onerror = () => reject(new ApiError(0, { message: "The upload failed: the server cannot be reached." }));
      xhr.onload = async () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText || "{}"); } catch { /* not JSON */ }
        if (xhr.status === 401 && !retried) {
          if (!(await this.refresh())) await this.onSignInNeeded();
          this.upload(path, formData, onProgress, true).then(resolve, reject);
          return;
        }
        const wait = parseInt(xhr.getResponseHeader("Retry-After") || "", 10);
        if ((xhr.status === 429 || xhr.status === 503) && Number.isFinite(wait) && wait <= MAX_AUTOMATIC_WAIT && !retried) {
          await this.waitOut(wait, body.message);
          this.upload(path, formData, onProgress, true).then(resolve, reject);
          return;
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new ApiError(xhr.status, body));
      };
      xhr.send(formData);
    });
  }
}

export const api = new ApiClient();
