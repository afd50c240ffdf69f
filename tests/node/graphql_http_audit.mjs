// Runs graphql-http's GraphQL-over-HTTP conformance audit against a server.
// Usage: node graphql_http_audit.mjs <url>
// Prints one JSON line per audit: {"id", "name", "status", "reason"?}.
// Driven by the Rust test tests/tests/api/graphql_http.rs, which judges them.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node graphql_http_audit.mjs <url>');
  process.exit(2);
}
for (const { id, name, status, reason } of await auditServer({ url })) {
  console.log(JSON.stringify({ id, name, status, reason }));
}
