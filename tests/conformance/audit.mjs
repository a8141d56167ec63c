// GraphQL-over-HTTP conformance: run graphql-http's server audit against a running server.
//
//   node tests/conformance/audit.mjs [URL]      (default http://127.0.0.1:8000/graphql)
//
// Prints one line per audit that is not "ok" (ERROR for a failed MUST, WARN for a failed
// SHOULD, NOTICE for a failed MAY), then a JSON summary line. Exits 1 on any error or warning.
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';
const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
  }
}
console.log(JSON.stringify({ url, audits: results.length, ...counts }));
process.exit(counts.error + counts.warn > 0 ? 1 : 0);
