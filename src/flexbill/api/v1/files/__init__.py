"""``/v1/files``: documents, their signed links, uploads and contract PDFs."""
