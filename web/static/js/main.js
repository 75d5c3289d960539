// The single page: a hash router (#/board, #/applications/<id>, …), the navigation, and the
// session's life cycle (restore after a reload, sign in again in a dialog when it ends).
import { api } from "./api.js";
import { h, notify, replace } from "./dom.js";
import { field, form, getStatuses } from "./ui.js";
import { accountPage } from "./pages/account.js";
import { deadLettersPage } from "./pages/admin.js";
import { applicationPage } from "./pages/application.js";
import { signInPage, signUpPage } from "./pages/auth.js";
import { boardPage } from "./pages/board.js";
import { listingPage, listingsPage } from "./pages/listings.js";
import { resumePage, resumesPage } from "./pages/resumes.js";
import { statsPage } from "./pages/stats.js";

const ROUTES = [
  [/^#\/signin$/, signInPage, "Sign in", false],
  [/^#\/signup$/, signUpPage, "Sign up", false],
  [/^#\/board$/, boardPage, "Board", true],
  [/^#\/applications\/([\w-]+)$/, applicationPage, "Application", true],
  [/^#\/listings$/, listingsPage, "Listings", true],
  [/^#\/listings\/([\w-]+)$/, listingPage, "Listing", true],
  [/^#\/resumes$/, resumesPage, "Resumes", true],
  [/^#\/resumes\/([\w-]+)$/, resumePage, "Resume", true],
  [/^#\/stats$/, statsPage, "Stats", true],
  [/^#\/account$/, accountPage, "Account", true],
  [/^#\/dead-letters$/, deadLettersPage, "Dead letters", true],
];
const NAV = [["#/board", "Board"], ["#/listings", "Listings"], ["#/resumes", "Resumes"], ["#/stats", "Stats"],
             ["#/account", "Account"]];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let pageCleanup = null;
let routeToken = 0;

function renderNav() {
  if (!api.signedIn) { nav.hidden = true; replace(nav); return; }
  const current = location.hash.split("/").slice(0, 2).join("/");
  nav.hidden = false;
  replace(nav, h("ul", {},
    NAV.concat(api.user?.role === "admin" ? [["#/dead-letters", "Dead letters"]] : [])
      .map(([href, text]) => h("li", {}, h("a", { href, "aria-current": current === href ? "page" : null }, text))),
    h("li", {}, h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"))));
}

async function signOut() {
  await api.signOut();
  notify("You are signed out.");
  location.hash = "#/signin";
}

async function route() {
  if (pageCleanup) { pageCleanup(); pageCleanup = null; }
  const hash = location.hash || "#/board";
  const match = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!match) { location.hash = api.signedIn ? "#/board" : "#/signin"; return; }
  const [pattern, page, title, needsAuth] = match;
  if (needsAuth && !api.signedIn) { location.hash = "#/signin"; return; }
  if (!needsAuth && api.signedIn) { location.hash = "#/board"; return; }
  document.title = `${title} · Applytrack`;
  renderNav();
  const container = h("div", { class: "page" });
  replace(main, container);
  const args = hash.match(pattern).slice(1);
  const token = ++routeToken;
  main.focus({ preventScroll: true });
  const cleanup = (await page(container, ...args)) || null;
  if (token === routeToken) pageCleanup = cleanup;
  else if (cleanup) cleanup(); // the user moved on while this page was loading
}

// The session ended (expired, revoked): sign in again in a dialog over the page, so whatever
// was being typed stays where it is; the request that found out is then retried.
let reauth = null;
api.onSignInNeeded = () => {
  reauth ||= new Promise((resolve) => {
    const dialog = h("dialog", { class: "reauth", "aria-labelledby": "reauth-title" },
      h("h2", { id: "reauth-title" }, "Your session has ended"),
      h("p", {}, "Sign in again to carry on; nothing you typed is lost."),
      form({
        label: "Sign in again",
        fields: [
          field({ label: "Email", name: "email", type: "email", required: true, autocomplete: "username",
                  value: api.user?.email || "" }),
          field({ label: "Password", name: "password", type: "password", required: true, autocomplete: "current-password" }),
        ],
        submitLabel: "Sign in",
        onSubmit: async (values) => {
          const previous = api.user?.id;
          await api.signIn(values.email, values.password);
          if (previous && api.user.id !== previous) { location.replace("/#/board"); location.reload(); return; }
          dialog.close();
          dialog.remove();
          reauth = null;
          resolve();
        },
      }));
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    document.body.append(dialog);
    dialog.showModal();
  });
  return reauth;
};

// 429 / 503: a visible countdown, then the request is retried by the client.
api.onWait = (seconds, message) => {
  const note = notify("", { kind: "warning", timeout: 0 });
  let left = seconds;
  const render = () => { note.textContent = `${message ? `${message} ` : ""}Try again in ${left} seconds — retrying automatically.`; };
  render();
  const timer = setInterval(() => { left = Math.max(left - 1, 0); render(); }, 1000);
  return () => { clearInterval(timer); note.remove(); };
};

window.addEventListener("hashchange", route);
window.addEventListener("applytrack:signed-in", () => { location.hash = "#/board"; });

getStatuses(); // public: on its way while the session is restored
(async () => {
  try {
    if (await api.resume()) api.profileReady.then(renderNav, () => {});
  } catch { /* not signed in */ }
  if (!location.hash) location.hash = api.signedIn ? "#/board" : "#/signin";
  else route();
})();
