// The employee directory's page: the same file in both stacks. It calls the contract's API at
// /api/ of its own origin (openapi.json) and, where the site has an HR admin sign-in
// (/config.json names the user pool's app client), signs in with Cognito's InitiateAuth.
// Everything shown is built with textContent: nothing from the API is ever parsed as HTML.
"use strict";

const state = { config: { hrAdmin: null }, token: sessionStorage.getItem("idToken"), next: null, editing: null };
const $ = (id) => document.getElementById(id);

function say(text, error) {
  $("status").textContent = text || "";
  $("status").className = error ? "error" : "";
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.token) headers.Authorization = state.token;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 401 && state.token) signOut();
    throw new Error((data && data.message) || `${response.status} ${response.statusText}`);
  }
  return data;
}

// -- sign-in (Cognito user pool, USER_PASSWORD_AUTH, then TOTP or a new password if asked) ------

async function cognito(target, payload) {
  const { region } = state.config.hrAdmin;
  const response = await fetch(`https://cognito-idp.${region}.amazonaws.com/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}` },
    body: JSON.stringify(payload),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || data.__type || "sign-in failed");
  return data;
}

async function signIn(form) {
  const { clientId } = state.config.hrAdmin;
  const username = form.username.value;
  let answer;
  if (state.challenge) {
    const responses = { USERNAME: username };
    if (state.challenge.ChallengeName === "SOFTWARE_TOKEN_MFA") responses.SOFTWARE_TOKEN_MFA_CODE = form.code.value;
    if (state.challenge.ChallengeName === "NEW_PASSWORD_REQUIRED") responses.NEW_PASSWORD = form.newPassword.value;
    answer = await cognito("RespondToAuthChallenge", {
      ClientId: clientId, ChallengeName: state.challenge.ChallengeName, Session: state.challenge.Session, ChallengeResponses: responses,
    });
  } else {
    answer = await cognito("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH", ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: form.password.value },
    });
  }
  if (answer.AuthenticationResult) {
    state.token = answer.AuthenticationResult.IdToken;
    sessionStorage.setItem("idToken", state.token);
    state.challenge = null;
    form.reset();
    form.hidden = true;
    renderAccount();
    say("Signed in.");
    return;
  }
  state.challenge = answer;
  $("code-field").hidden = answer.ChallengeName !== "SOFTWARE_TOKEN_MFA";
  $("new-password-field").hidden = answer.ChallengeName !== "NEW_PASSWORD_REQUIRED";
  if (answer.ChallengeName === "MFA_SETUP") {
    throw new Error("Enrol an authenticator app first (docs/employee-directory.md shows how), then sign in.");
  }
  say(answer.ChallengeName === "SOFTWARE_TOKEN_MFA" ? "Enter the code from your authenticator app." : "Choose a new password.");
}

function signOut() {
  state.token = null;
  sessionStorage.removeItem("idToken");
  renderAccount();
}

function renderAccount() {
  const account = $("account");
  account.replaceChildren();
  if (!state.config.hrAdmin) return;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = state.token ? "Sign out" : "HR admin sign-in";
  button.addEventListener("click", () => {
    if (state.token) signOut();
    else $("sign-in").hidden = false;
  });
  account.append(button);
}

// -- the list -----------------------------------------------------------------------------------

function photo(employee) {
  const img = document.createElement("img");
  img.className = "photo";
  img.alt = "";
  img.addEventListener("error", () => img.removeAttribute("src"), { once: true });
  img.src = employee.photoUrl;
  return img;
}

function row(employee) {
  const tr = document.createElement("tr");
  const cells = [photo(employee), employee.name, employee.jobTitle, employee.department, employee.email, employee.location || "", employee.phone || ""];
  for (const value of cells) {
    const td = document.createElement("td");
    if (typeof value === "string") td.textContent = value;
    else td.append(value);
    tr.append(td);
  }
  const edit = document.createElement("button");
  edit.type = "button";
  edit.textContent = "Edit";
  edit.addEventListener("click", () => openEditor(employee));
  const td = document.createElement("td");
  td.append(edit);
  tr.append(td);
  return tr;
}

async function load(more) {
  const query = new URLSearchParams({ limit: "25" });
  if (more && state.next) query.set("nextToken", state.next);
  const page = await api("GET", `/api/employees?${query}`);
  if (!more) $("rows").replaceChildren();
  $("rows").append(...page.items.map(row));
  state.next = page.nextToken;
  $("more").hidden = !state.next;
}

// -- add, change, delete, photo -----------------------------------------------------------------

function openEditor(employee) {
  const form = $("editor");
  form.reset();
  state.editing = employee || null;
  $("editor-title").textContent = employee ? `Edit ${employee.name}` : "Add employee";
  $("delete").hidden = !employee;
  for (const name of ["name", "email", "jobTitle", "department", "location", "phone"]) {
    form[name].value = (employee && employee[name]) || "";
  }
  form.hidden = false;
}

function fields(form) {
  const out = {};
  for (const name of ["name", "email", "jobTitle", "department", "location", "phone"]) {
    const value = form[name].value.trim();
    if (value) out[name] = value;
    else if (state.editing && state.editing[name]) out[name] = null; // removes the field
  }
  return out;
}

async function uploadPhoto(employeeId, file) {
  const grant = await api("POST", `/api/employees/${employeeId}/photo`, { contentType: file.type });
  if (file.size > grant.maxBytes) throw new Error(`The photo is larger than ${grant.maxBytes} bytes.`);
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
  form.append("file", file);
  const response = await fetch(grant.upload.url, { method: "POST", body: form });
  if (!response.ok) throw new Error(`The photo upload was refused (${response.status}).`);
}

async function save(form) {
  const body = fields(form);
  let saved;
  if (state.editing) {
    saved = await api("PUT", `/api/employees/${state.editing.employeeId}`, { ...body, version: state.editing.version });
  } else {
    saved = await api("POST", "/api/employees", body);
  }
  const file = form.photo.files[0];
  if (file) await uploadPhoto(saved.employeeId, file);
  form.hidden = true;
  say(file ? "Saved; the photo appears once its thumbnail is made." : "Saved.");
  await load(false);
}

async function remove() {
  if (!state.editing || !confirm(`Delete ${state.editing.name}?`)) return;
  await api("DELETE", `/api/employees/${state.editing.employeeId}`);
  $("editor").hidden = true;
  say("Deleted.");
  await load(false);
}

function guard(action) {
  return async (event) => {
    if (event) event.preventDefault();
    try {
      await action(event && event.target);
    } catch (error) {
      say(error.message, true);
    }
  };
}

document.addEventListener("DOMContentLoaded", guard(async () => {
  const response = await fetch("/config.json");
  if (response.ok) state.config = await response.json();
  renderAccount();
  $("sign-in").addEventListener("submit", guard(signIn));
  $("cancel-sign-in").addEventListener("click", () => { $("sign-in").hidden = true; state.challenge = null; });
  $("editor").addEventListener("submit", guard(save));
  $("delete").addEventListener("click", guard(remove));
  $("cancel-edit").addEventListener("click", () => { $("editor").hidden = true; });
  $("add").addEventListener("click", () => openEditor(null));
  $("more").addEventListener("click", guard(() => load(true)));
  await load(false);
}));
