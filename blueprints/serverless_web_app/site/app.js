// Wild Rydes, the serverless web app's page: no framework, no third-party code, no inline script,
// so the Content-Security-Policy stays "'self'" plus Cognito's sign-in domain.
//
// config.json is written at deploy from the stack's own values (user pool, app client, hosted
// sign-in URL, API URL): nothing here is edited by hand. Sign-in is Cognito's hosted pages with the
// authorization code flow and PKCE (RFC 7636): the page never sees a password, and the code it gets
// back is worthless without the verifier that only this tab holds. Tokens live in sessionStorage
// (gone with the tab). Text from the API is inserted with textContent, never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const SESSION = "wildrydes.session";
const PENDING = "wildrydes.pkce";
let config = null;

// -- small helpers ------------------------------------------------------------------------------

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes) {
  const values = new Uint8Array(bytes);
  crypto.getRandomValues(values);
  return base64url(values);
}

async function sha256(text) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

// A UUID version 7: the time first, so the API lists newer requests first. It is also the
// request's idempotency key: a retry of one create sends the same one.
function uuidv7() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function claims(jwt) {
  const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(payload))));
}

function say(text, error = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", error);
}

function redirectUri() {
  return `${location.origin}/`;
}

// -- sign-in: Cognito's hosted pages, authorization code + PKCE -----------------------------------

async function goToCognito(page) {
  const verifier = randomText(48);
  const state = randomText(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(`${config.signInUrl}/${page}`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: "openid email",
    state,
    code_challenge: base64url(await sha256(verifier)),
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

async function tokenRequest(fields) {
  const response = await fetch(`${config.signInUrl}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: config.clientId, ...fields }).toString(),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error_description || body.error || `sign-in failed (${response.status})`);
  return body;
}

function keep(tokens, refreshToken) {
  const session = {
    idToken: tokens.id_token,
    refreshToken: tokens.refresh_token || refreshToken,
    expiresAt: claims(tokens.id_token).exp * 1000,
  };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  return session;
}

// Back from Cognito with ?code=...&state=...: the state must be the one this tab sent, and the
// code is exchanged with the verifier this tab kept.
async function finishSignIn() {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return;
  history.replaceState(null, "", location.pathname);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (query.has("error")) throw new Error(query.get("error_description") || query.get("error"));
  if (!pending || pending.state !== query.get("state")) throw new Error("sign-in answer does not belong to this tab; sign in again");
  keep(
    await tokenRequest({
      grant_type: "authorization_code",
      code: query.get("code"),
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    }),
  );
}

async function session() {
  const current = JSON.parse(sessionStorage.getItem(SESSION) || "null");
  if (!current) return null;
  if (current.expiresAt - Date.now() > 60_000) return current;
  if (!current.refreshToken) return null;
  try {
    return keep(await tokenRequest({ grant_type: "refresh_token", refresh_token: current.refreshToken }), current.refreshToken);
  } catch {
    sessionStorage.removeItem(SESSION);
    return null;
  }
}

function signOut() {
  sessionStorage.removeItem(SESSION);
  const url = new URL(`${config.signInUrl}/logout`);
  url.search = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri() }).toString();
  location.assign(url.toString());
}

// -- the API --------------------------------------------------------------------------------------

async function api(method, path, body, headers = {}) {
  const current = await session();
  if (!current) throw new Error("signed out: sign in again");
  const response = await fetch(`${config.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: current.idToken,
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = response.status === 204 ? null : await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((answer && answer.message) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return answer;
}

// One create, sent again with the same key if the answer was lost or the API was busy: the API
// stores it once and answers the retry with the same request.
async function createRequest(fields) {
  const key = uuidv7();
  for (let attempt = 1; ; attempt++) {
    try {
      return await api("POST", "/requests", fields, { "Idempotency-Key": key });
    } catch (error) {
      const transient = error.status === undefined || error.status === 503;
      if (!transient || attempt >= 3) throw error;
      await new Promise((done) => setTimeout(done, 500 * attempt));
    }
  }
}

function row(request) {
  const item = document.createElement("li");
  item.dataset.requestId = request.requestId;
  const what = document.createElement("span");
  const when = new Date(request.pickupAt).toLocaleString();
  what.textContent = `${request.pickup} → ${request.dropoff}, ${when}, ${request.passengers} passenger(s)`;
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  cancel.addEventListener("click", async () => {
    try {
      await api("DELETE", `/requests/${encodeURIComponent(request.requestId)}`);
      say("Request cancelled.");
      await showRequests();
    } catch (error) {
      say(`Could not cancel: ${error.message}`, true);
    }
  });
  item.append(what, cancel);
  return item;
}

async function showRequests() {
  const page = await api("GET", "/requests?limit=50");
  const list = $("requests");
  list.replaceChildren(...page.items.map(row));
  if (!page.items.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = "No requests yet.";
    list.append(none);
  }
}

// -- the page -------------------------------------------------------------------------------------

async function render() {
  const current = await session();
  $("signed-out").hidden = Boolean(current);
  $("signed-in").hidden = !current;
  $("sign-out").hidden = !current;
  $("who").textContent = current ? claims(current.idToken).email || "" : "";
  if (!current) {
    say("Signed out.");
    return;
  }
  say("Signed in.");
  await showRequests();
}

async function start() {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  config = await response.json();
  document.title = config.appName;
  $("app-name").textContent = config.appName;
  $("sign-in").addEventListener("click", () => goToCognito("oauth2/authorize"));
  $("sign-up").addEventListener("click", () => goToCognito("signup"));
  $("sign-out").addEventListener("click", signOut);
  $("request-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const when = new Date(form.get("pickupAt"));
    const fields = {
      pickup: form.get("pickup").trim(),
      dropoff: form.get("dropoff").trim(),
      pickupAt: `${when.toISOString().slice(0, 16)}Z`,
      passengers: Number(form.get("passengers") || 1),
    };
    const notes = form.get("notes").trim();
    if (notes) fields.notes = notes;
    try {
      const created = await createRequest(fields);
      say(`Ride requested: ${created.pickup} → ${created.dropoff}.`);
      event.target.reset();
      await showRequests();
    } catch (error) {
      say(`Could not request the ride: ${error.message}`, true);
    }
  });
  await finishSignIn();
  await render();
}

start().catch((error) => say(error.message, true));
