// The HTTP client of the page: JSON in and out, the session's CSRF token on every write,
// If-Match for versioned writes, problem+json errors as ApiError (French `detail`).

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `Erreur ${status}`);
    this.status = status;
    this.code = problem?.code || "http_error";
    this.problem = problem || {};
  }
}

export class Api {
  constructor({ fetchImpl = (...args) => window.fetch(...args) } = {}) {
    this.fetchImpl = fetchImpl;
    this.csrfToken = null;
  }

  async request(method, path, { body, form, params, headers = {}, signal } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const init = { method, headers: { Accept: "application/json", ...headers },
                   credentials: "same-origin", signal };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (form !== undefined) init.body = form;  // multipart: the browser writes the boundary
    if (method !== "GET" && this.csrfToken) init.headers["X-CSRF-Token"] = this.csrfToken;
    const response = await this.fetchImpl(url, init);
    if (response.status === 204) return { data: null, response };
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      if (response.status === 401) window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      throw new ApiError(response.status, typeof data === "object" ? data : { detail: String(data) });
    }
    return { data, response };
  }

  async get(path, params) { return (await this.request("GET", path, { params })).data; }
  async post(path, body, options = {}) { return (await this.request("POST", path, { body, ...options })).data; }

  async me() {
    const me = await this.get("/api/me");
    this.csrfToken = me.csrf_token;
    return me;
  }

  /** A CPTS and its version (from the ETag). */
  async cpts(id) {
    const { data, response } = await this.request("GET", `/api/cpts/${id}`);
    return { ...data, etag: response.headers.get("ETag") || `"${data.version}"` };
  }

  async patchCpts(id, version, body) {
    const { data, response } = await this.request("PATCH", `/api/cpts/${id}`, {
      body, headers: { "If-Match": `"${version}"` } });
    return { ...data, etag: response.headers.get("ETag") };
  }

  createCpts(body) { return this.post("/api/cpts", body); }
  simulate(body, signal) { return this.request("POST", "/api/simulations/perimeter", { body, signal }).then((r) => r.data); }
  versions(id) { return this.get(`/api/cpts/${id}/versions`); }
  history(id) { return this.get(`/api/cpts/${id}/history`); }
  actions(id) { return this.get(`/api/map/cpts/${id}/actions`); }
  overview() { return this.get("/api/map/overview"); }
  unitAt(lat, lon) { return this.get("/api/map/unit-at", { lat, lon }); }
  neighbours(code) { return this.get(`/api/map/neighbours/${encodeURIComponent(code)}`); }
  place(lat, lon) { return this.get("/api/map/place", { lat, lon }); }
  orientation() { return this.get("/api/map/orientation"); }
  labels(bbox) { return this.get("/api/map/labels", { bbox }); }
  territories(q) { return this.get("/api/territories", { q }); }
  perimeters(statuses) { return this.get("/api/map/perimeters", { statuses: statuses.join(",") }); }
  group(kind, code) { return this.get(`/api/map/groups/${kind}/${encodeURIComponent(code)}`); }
  selection(geometry) { return this.post("/api/map/selection", { geometry }); }
  units(codes) { return this.post("/api/map/units", { codes }); }
  commune(code) { return this.get(`/api/communes/${encodeURIComponent(code)}`); }
  search(q) { return this.get("/api/communes", { q, limit: 8 }); }
  sizeRules() { return this.get("/api/size-rules"); }
  coverage(params) { return this.get("/api/coverage", params); }
  requestStage(id, comment) { return this.post(`/api/cpts/${id}/stage-request`, { comment }); }
  acceptStage(id, version, comment) {
    return this.post(`/api/cpts/${id}/stage-request/accept`, { comment }, { headers: { "If-Match": `"${version}"` } });
  }
  /** A listing of CPTS (multipart field `file`): the dry run's or the import's report. */
  importCpts(file, { dry_run, status }) {
    const form = new FormData();
    form.append("file", file, file.name);
    return this.request("POST", "/api/imports/cpts", { form, params: { dry_run: String(dry_run), status } })
      .then((r) => r.data);
  }
  tokens() { return this.get("/api/tokens"); }
  createToken(name, expiresInDays) {
    return this.post("/api/tokens", { name, expires_in_days: expiresInDays || null });
  }
  revokeToken(id) { return this.request("DELETE", `/api/tokens/${id}`).then((r) => r.data); }
  rename(id, version, name) { return this.patchCpts(id, version, { name }); }
  archive(id, version, reason) {
    return this.post(`/api/cpts/${id}/archive`, { reason }, { headers: { "If-Match": `"${version}"` } });
  }
  restore(id, version, reason) {
    return this.post(`/api/cpts/${id}/restore`, { reason }, { headers: { "If-Match": `"${version}"` } });
  }
  requestChanges(id, comment, communes) {
    return this.post(`/api/cpts/${id}/stage-request/changes`, { comment, communes });
  }
}
