"""The GraphQL API (the only package that knows GraphQL) and the ``learngraph`` command line."""
