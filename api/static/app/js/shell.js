// The app shell: top bar (pages the role may see, who is signed in), sign-in, and a hash
// router. A page module exports
//     export async function render(root, ctx) { ...; return optionalCleanup; }
// ctx = { session, params, navigate(route), signal }:
//   session  {token, sub, role, exp} of the signed-in user
//   params   the route after the page id, split on "/" (#/learner/learner-0002 -> ["learner-0002"])
//   signal   an AbortSignal aborted when the user leaves the page (pass it to gql)
// The cleanup function, if returned, runs when the user leaves (close subscriptions there).
import { h, mount, errorBox } from "./dom.js";
import { gql } from "./graphql.js";
import { HOME_OF_ROLE, PAGES } from "./pages.js";
import { currentSession, devSignIn, devTokensAvailable, signOut, storeToken } from "./session.js";

const page = document.getElementById("page");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let leave = null; // {controller, cleanup} of the page on screen

export function navigate(route) {
  if (window.location.hash === `#/${route}`) render();
  else window.location.hash = `#/${route}`;
}

function pagesFor(session) {
  return session ? PAGES.filter((p) => p.roles.includes(session.role)) : [];
}

function drawTopbar(session, currentId) {
  mount(
    nav,
    pagesFor(session).map((p) =>
      h("a", { href: `#/${p.id}`, class: p.id === currentId ? "active" : null, "aria-current": p.id === currentId ? "page" : null }, p.title),
    ),
  );
  if (!session) {
    mount(who);
    return;
  }
  mount(
    who,
    h("span", { class: "badge", "data-role": session.role }, session.role),
    h("span", { id: "who-sub" }, session.sub),
    h("button", { type: "button", class: "link", id: "sign-out", onClick: () => { signOut(); navigate(""); } }, "Sign out"),
  );
}

async function verifyAndEnter(session) {
  // The server is the judge of a token: a wrong secret or an unknown user shows here.
  const data = await gql("{ viewer { subject role } }", {}, { token: session.token });
  if (!data.viewer) throw new Error("the server did not accept this token");
  const home = HOME_OF_ROLE[session.role];
  const target = pagesFor(session).find((p) => p.id === home) || pagesFor(session)[0];
  navigate(target ? target.id : "");
}

async function signInView() {
  const status = h("p", { id: "sign-in-status", class: "muted", role: "status" });
  const fail = (err) => {
    signOut();
    mount(status, errorBox(err));
  };
  const tokenBox = h("textarea", { id: "token-input", rows: 3, placeholder: "eyJhbGciOi…", spellcheck: "false" });
  const pasteForm = h(
    "form",
    {
      id: "token-form",
      onSubmit: async (e) => {
        e.preventDefault();
        try {
          await verifyAndEnter(storeToken(tokenBox.value));
        } catch (err) {
          fail(err);
        }
      },
    },
    h("label", { for: "token-input" }, "Paste a bearer token (", h("code", {}, "learngraph token --sub ID --role ROLE"), ")"),
    tokenBox,
    h("button", { type: "submit" }, "Sign in with token"),
  );
  const card = h("section", { class: "card sign-in" }, h("h1", {}, "Sign in"), pasteForm, status);
  mount(page, card);

  if (await devTokensAvailable()) {
    const demo = [
      ["learner-0001", "learner", "Learner 1"],
      ["teacher-01", "teacher", "Teacher 1"],
      ["designer-01", "designer", "Curriculum designer"],
      ["admin-01", "admin", "Administrator"],
    ];
    const sub = h("input", { id: "dev-sub", value: "learner-0001", "aria-label": "user id" });
    const role = h("select", { id: "dev-role", "aria-label": "role" }, ["learner", "teacher", "designer", "admin"].map((r) => h("option", { value: r }, r)));
    const go = async (s, r) => {
      try {
        await verifyAndEnter(await devSignIn(s, r));
      } catch (err) {
        fail(err);
      }
    };
    card.insertBefore(
      h(
        "div",
        { class: "dev-sign-in" },
        h("p", {}, "Development server: sign in as a demo user (tokens signed with the public development secret; ", h("code", {}, "serve --production"), " has no such button)."),
        h("div", { class: "row" }, demo.map(([s, r, label]) => h("button", { type: "button", "data-sub": s, "data-role": r, onClick: () => go(s, r) }, `${label}`))),
        h("form", { class: "row", id: "dev-form", onSubmit: (e) => { e.preventDefault(); go(sub.value.trim(), role.value); } }, sub, role, h("button", { type: "submit" }, "Sign in as")),
      ),
      pasteForm,
    );
  }
}

async function render() {
  delete page.dataset.ready;
  if (leave) {
    leave.controller.abort();
    try { leave.cleanup?.(); } catch (err) { console.error(err); }
    leave = null;
  }
  const session = currentSession();
  const [id, ...params] = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const entry = pagesFor(session).find((p) => p.id === id);
  drawTopbar(session, entry?.id);
  if (!session) return signInView();
  if (!entry) {
    const home = pagesFor(session).find((p) => p.id === HOME_OF_ROLE[session.role]) || pagesFor(session)[0];
    if (home) return navigate(home.id);
    return mount(page, h("section", { class: "card" }, h("p", {}, `No page for the role ${session.role} yet.`)));
  }
  document.title = `${entry.title} · learngraph`;
  const controller = new AbortController();
  leave = { controller, cleanup: null };
  mount(page, h("p", { class: "muted" }, "Loading…"));
  try {
    const module = await entry.load();
    const cleanup = await module.render(page, { session, params, navigate, signal: controller.signal });
    if (leave?.controller === controller) leave.cleanup = cleanup;
    else cleanup?.();
  } catch (err) {
    if (controller.signal.aborted) return;
    console.error(err);
    mount(page, errorBox(err));
  }
  page.dataset.ready = entry.id; // tests wait for this
}

window.addEventListener("hashchange", render);
render();
