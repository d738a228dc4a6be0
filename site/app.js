// MyBlog sample front end: a tiny single-page app. No inline script and no third-party code,
// so the distribution's Content-Security-Policy can stay "'self'" only. All text from the API
// is inserted with textContent, never innerHTML.
"use strict";

const view = document.getElementById("view");

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function meta(post) {
  const when = post.createdAt ? new Date(post.createdAt).toLocaleDateString() : "";
  const line = el("p", `${when} by ${post.author || "unknown"}`, { class: "meta" });
  if (post.tags && post.tags.length) {
    const tags = el("span", undefined, { class: "tags" });
    for (const tag of post.tags) tags.append(el("span", tag));
    line.append(" ", tags);
  }
  return line;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

async function showList(cursor) {
  const page = await getJson("/api/posts?limit=10" + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
  view.replaceChildren();
  if (!page.posts.length) view.append(el("p", "No posts yet.", { class: "muted" }));
  for (const post of page.posts) {
    const article = el("article");
    const title = el("h2");
    title.append(el("a", post.title, { href: `/post/${post.slug}` }));
    article.append(title, meta(post), el("p", post.summary || ""));
    view.append(article);
  }
  if (page.nextCursor) {
    const more = el("button", "Older posts");
    more.addEventListener("click", () => showList(page.nextCursor));
    view.append(more);
  }
}

async function showPost(slug) {
  const post = await getJson(`/api/posts/${encodeURIComponent(slug)}`);
  document.title = `${post.title} - MyBlog`;
  const article = el("article");
  article.append(el("h1", post.title), meta(post));
  for (const paragraph of String(post.body).split(/\n\s*\n/)) article.append(el("p", paragraph));
  view.replaceChildren(article, el("a", "All posts", { href: "/" }));
}

// The links in subscription mails: /subscription#confirm=<token> or #unsubscribe=<token>. The
// token is in the fragment, which browsers never send, so it is in no access log; the page asks
// before it posts the token to the API, so a mail scanner that opens every link does nothing.
function showSubscriptionLink() {
  const [action, token] = location.hash.slice(1).split("=", 2);
  history.replaceState(null, "", "/subscription");  // the token leaves the address bar
  if (!["confirm", "unsubscribe"].includes(action) || !token) {
    view.replaceChildren(el("p", "This link is incomplete.", { class: "muted" }), el("a", "All posts", { href: "/" }));
    return;
  }
  const button = el("button", action === "confirm" ? "Confirm my subscription" : "Unsubscribe me");
  const status = el("p", "", { class: "muted", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const response = await fetch(`/api/subscribers/${action}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: decodeURIComponent(token) }),
      });
      const body = await response.json().catch(() => ({}));
      const done = action === "confirm" ? "Subscribed: a welcome email is on its way." : "Unsubscribed: no more emails.";
      status.textContent = response.ok ? done : body.message || `HTTP ${response.status}`;
    } catch (error) {
      status.textContent = `Could not reach the blog: ${error.message}`;
      button.disabled = false;
    }
  });
  view.replaceChildren(button, status, el("a", "All posts", { href: "/" }));
}

async function route() {
  // The CloudFront Function serves index.html for every extensionless path, so /post/<slug>
  // deep links reach this code with the address intact.
  const match = location.pathname.match(/^\/post\/([a-z0-9-]+)\/?$/);
  try {
    if (location.pathname === "/subscription" && location.hash) return showSubscriptionLink();
    await (match ? showPost(match[1]) : showList());
  } catch (error) {
    view.replaceChildren(el("p", `Could not load: ${error.message}`, { class: "muted" }));
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a");
  if (link && link.origin === location.origin && !link.hasAttribute("download")) {
    event.preventDefault();
    history.pushState(null, "", link.pathname);
    route();
  }
});
window.addEventListener("popstate", route);

document.getElementById("subscribe").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("subscribe-status");
  const email = document.getElementById("email").value;
  status.textContent = "Subscribing…";
  try {
    const response = await fetch("/api/subscribers", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email }),
    });
    const body = await response.json().catch(() => ({}));
    status.textContent = response.ok ? "Almost done: open the link in the email we sent to confirm." : body.message || `HTTP ${response.status}`;
  } catch (error) {
    status.textContent = `Could not subscribe: ${error.message}`;
  }
});

route();
