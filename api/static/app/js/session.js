// Who is signed in: a bearer token kept in localStorage, with its claims (sub, role, exp)
// read from the JWT payload for display only (the server verifies the token on every request).

const KEY = "learngraph.token";
export const DEV_TOKEN_URL = new URL("/app/dev-token", window.location.href).toString();
const CONFIG_URL = new URL("/app/config.json", window.location.href).toString();

function claimsOf(token) {
  const part = token.split(".")[1];
  if (!part) throw new Error("that is not a JWT (three base64url parts separated by dots)");
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(json);
}

/** {token, sub, role, exp} of the stored token, or null (none, unreadable or expired). */
export function currentSession() {
  const token = localStorage.getItem(KEY);
  if (!token) return null;
  try {
    const claims = claimsOf(token);
    if (claims.exp && claims.exp * 1000 < Date.now()) return null;
    return { token, sub: claims.sub, role: claims.role, exp: claims.exp };
  } catch {
    return null;
  }
}

/** Keep `token` as the session (throws when it cannot be read as a JWT). */
export function storeToken(token) {
  const trimmed = token.trim().replace(/^Bearer\s+/i, "");
  const claims = claimsOf(trimmed);
  if (!claims.sub || !claims.role) throw new Error("the token has no sub or role claim");
  localStorage.setItem(KEY, trimmed);
  return currentSession();
}

export function signOut() {
  localStorage.removeItem(KEY);
}

/** Whether this server offers development tokens (only with the public dev secret). */
export async function devTokensAvailable() {
  try {
    const r = await fetch(CONFIG_URL);
    return r.ok && (await r.json()).devTokens === true;
  } catch {
    return false;
  }
}

/** Ask the development server for a token of `sub` with `role`, and keep it. */
export async function devSignIn(sub, role) {
  const r = await fetch(DEV_TOKEN_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub, role }),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return storeToken(body.token);
}
