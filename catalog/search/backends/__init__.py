"""The SQL of each search backend. Both answer the same four questions for catalog.search.engine:
which names match, the best documents of those names, which documents match the text, and what to show."""
