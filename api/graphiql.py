"""The GraphiQL page, with its scripts and styles served from ``api/static/graphiql``."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
STATIC_PATH = "/graphql/static"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>learngraph GraphiQL</title>
  <link rel="stylesheet" href="{static}/graphiql.min.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="{static}/react.production.min.js"></script>
  <script src="{static}/react-dom.production.min.js"></script>
  <script src="{static}/graphiql.min.js"></script>
  <script>
    const http = new URL("/graphql", window.location.href);
    const ws = new URL(http);
    ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";
    const fetcher = GraphiQL.createFetcher({{
      url: http.toString(),
      subscriptionUrl: ws.toString(),
    }});
    const defaultQuery = `# learngraph: the public curriculum needs no token.
# For learner data add a header {{"Authorization": "Bearer <token>"}}
# (get one with: learngraph token --sub ada --role learner).
{{
  skills(first: 5) {{
    edges {{ node {{ key name prerequisites {{ key name }} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
`;
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{ fetcher, defaultQuery, shouldPersistHeaders: true }})
    );
  </script>
</body>
</html>
"""


def graphiql_html() -> str:
    return PAGE.format(static=STATIC_PATH)
