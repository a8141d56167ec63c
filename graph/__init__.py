"""The knowledge graph: domain objects, the ``GraphStore`` protocol and its two stores."""
