"""Documents (RAG): parse files, chunk, embed, index, retrieve, answer with citations, evaluate."""
