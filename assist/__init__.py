"""Live agent assist (issue 8): knowledge search, next-best scripts, compliance, summaries.

- ``kb`` / ``articles`` / ``passages`` / ``bm25`` / ``dense`` / ``embedding``: the versioned
  knowledge base with hybrid (E5 + FAISS HNSW, BM25) retrieval; demo articles in ``kb/``.
- ``compliance`` (+ ``compliance.yaml``): disclosures checklist, forbidden phrases, card/ID.
- ``scripts`` (+ ``scripts.yaml``): next-best response per intent/step, de-escalation.
- ``entities``, ``summary``: wrap-up entity capture and the after-contact summary.
- ``service``: the bus subscriber that ties them together; ``repo``: store queries.
- ``commands``: ``hotline kb import|search``.
"""
