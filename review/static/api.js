// The review API, as the page calls it: one function, errors as sentences a person can read.

export class Unreachable extends Error {}

export class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function sentence(data, status) {
  if (!data) return `the server answered ${status}`;
  if (typeof data.message === "string") return data.message;
  if (typeof data.detail === "string") return data.detail;
  if (Array.isArray(data.detail) && data.detail.length) {
    const first = data.detail[0];
    return `${(first.loc || []).slice(1).join(".")}: ${first.msg}`;
  }
  return `the server answered ${status}`;
}

export async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body !== undefined ? { "Content-Type": "application/json" } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    throw new Unreachable("the server cannot be reached");
  }
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
  }
  if (response.status === 401) {
    location.assign("/login");
    throw new Refused(401, "signed out: sign in again");
  }
  if (!response.ok) throw new Refused(response.status, sentence(data, response.status));
  return data;
}

// A client-made id per decision: the same decision sent again after a dropped connection is recorded once.
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
