// The HTTP API of the relay (protocol.md "HTTP API", admin.md "HTTP"), with the
// unit's bearer token. Errors are the contract's error object, raised as ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code || (status === 0 ? "network" : "unavailable");
    this.details = Array.isArray(body?.details) ? body.details : [];
  }
}

/** ``params`` without empty values, as a query string ("" when none). */
export function query(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export class Api {
  /** ``token()`` gives the current token; ``onUnauthorized()`` is called on a 401. */
  constructor({token, onUnauthorized = () => {}, fetchImpl = globalThis.fetch.bind(globalThis)}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
    this.fetch = fetchImpl;
  }

  async call(method, path, {params, body} = {}) {
    const response = await this.raw(method, path, {params, body});
    if (response.status === 204) return null;
    return response.json();
  }

  async raw(method, path, {params, body} = {}) {
    const headers = {Authorization: `Bearer ${this.token()}`};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await this.fetch(path + query(params), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
      });
    } catch {
      throw new ApiError(0, {code: "network", message: "the relay could not be reached"});
    }
    if (!response.ok) {
      let errorBody = null;
      try {
        errorBody = await response.json();
      } catch {
        // not the contract's error object
      }
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, errorBody);
    }
    return response;
  }

  get(path, params) {
    return this.call("GET", path, {params});
  }
}

/** Sentences for the relay's problems in ``language`` (POST /console/problems); the
 * relay's English ``problem`` where it has none. Never throws. */
export async function problemSentences(details, language, fetchImpl = globalThis.fetch.bind(globalThis)) {
  const english = details.map((detail) => detail.problem || detail.code || "");
  if (!details.length) return [];
  try {
    const response = await fetchImpl("/console/problems", {
      method: "POST", headers: {"Content-Type": "application/json"}, credentials: "omit",
      body: JSON.stringify({language, problems: details.map((d) => ({code: d.code, params: d.params || {}}))}),
    });
    if (!response.ok) return english;
    const {sentences} = await response.json();
    return english.map((fallback, index) => sentences?.[index] || fallback);
  } catch {
    return english;
  }
}
