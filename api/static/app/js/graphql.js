// The app's one GraphQL client: fetch() to /graphql with the signed-in token, and
// graphql-transport-ws subscriptions on the same URL. Pages import gql / subscribe / expect.
import { currentSession } from "./session.js";

export const ENDPOINT = new URL("/graphql", window.location.href).toString();

/** A failed request: HTTP status, GraphQL errors, or an expected-failure union member. */
export class GraphQLError extends Error {
  constructor(message, { status = null, code = null, errors = [], result = null } = {}) {
    super(message);
    this.name = "GraphQLError";
    this.status = status; // HTTP status, when the request itself failed
    this.code = code; // extensions.code of the first error (UNAUTHENTICATED, LIMIT_EXCEEDED, ...)
    this.errors = errors; // the response's errors array
    this.result = result; // the typed error object (ForbiddenError, ValidationError, ...)
  }
}

function authHeader(token) {
  const t = token === undefined ? currentSession()?.token : token;
  return t ? { authorization: `Bearer ${t}` } : {};
}

/**
 * Run a query or mutation; resolves to `data`, rejects with GraphQLError when the response
 * has errors or a non-200 status. `token: null` sends none; default: the session's.
 */
export async function gql(query, variables = {}, { token, signal } = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...authHeader(token) },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (err) {
    throw new GraphQLError(`cannot reach the server at ${ENDPOINT}: ${err.message}`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new GraphQLError(`the server answered HTTP ${response.status} without JSON`, {
      status: response.status,
    });
  }
  const errors = body?.errors || [];
  if (errors.length || !response.ok) {
    const first = errors[0] || {};
    throw new GraphQLError(first.message || `HTTP ${response.status}`, {
      status: response.status,
      code: first.extensions?.code || null,
      errors,
    });
  }
  return body.data;
}

/**
 * A union result (`... on RecordAttemptsPayload`) must be `typename`; otherwise throw a
 * GraphQLError carrying the typed error (ask for `... on Error { message }` in the query).
 */
export function expect(result, typename) {
  if (result && result.__typename === typename) return result;
  const what = result ? `${result.__typename}: ${result.message || "(no message)"}` : "no result";
  throw new GraphQLError(what, { result });
}

/**
 * Subscribe over graphql-transport-ws. onNext(data) for each event; onError(err) once when
 * it ends with an error (FORBIDDEN, UNAUTHENTICATED, a closed socket); onReady() once the
 * subscribe message is sent on an acknowledged connection. Returns stop().
 */
export function subscribe(query, variables, { onNext, onError = () => {}, onComplete = () => {}, onReady = () => {}, token } = {}) {
  const url = new URL(ENDPOINT);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url, "graphql-transport-ws");
  const id = "1";
  let done = false;
  const finish = (fn, arg) => {
    if (done) return;
    done = true;
    fn(arg);
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  };
  ws.onopen = () => {
    const t = token === undefined ? currentSession()?.token : token;
    ws.send(JSON.stringify({ type: "connection_init", payload: t ? { authorization: `Bearer ${t}` } : {} }));
  };
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "connection_ack") {
      ws.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
      onReady(); // the server acknowledged the connection and has the subscription
    } else if (msg.type === "ping") {
      ws.send(JSON.stringify({ type: "pong" }));
    } else if (msg.type === "next" && msg.id === id) {
      if (msg.payload.errors?.length) {
        const first = msg.payload.errors[0];
        finish(onError, new GraphQLError(first.message, { code: first.extensions?.code, errors: msg.payload.errors }));
      } else {
        onNext(msg.payload.data);
      }
    } else if (msg.type === "error" && msg.id === id) {
      finish(onError, new GraphQLError(msg.payload?.[0]?.message || "subscription refused", { errors: msg.payload }));
    } else if (msg.type === "complete" && msg.id === id) {
      finish(onComplete);
    }
  };
  ws.onclose = (event) => {
    finish(onError, new GraphQLError(`subscription closed (${event.code} ${event.reason || ""})`.trim()));
  };
  return () => {
    if (done) return;
    done = true;
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ id, type: "complete" }));
      ws.close(1000);
    } else {
      ws.close();
    }
  };
}
