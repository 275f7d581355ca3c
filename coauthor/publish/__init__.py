"""Publishing: measured roles, the foreword, EPUB 3, Markdown, HTML and the provenance report."""
