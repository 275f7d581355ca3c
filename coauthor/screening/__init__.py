"""Content screening before a book leaves Coauthor: the offline phrase checker (``rules``,
``prefilter``, ``offline``), one screening run over the book's paragraphs (``screen``, which
uses OpenAI's moderation endpoint through ``coauthor.ai.moderation`` when one is given) and the
author's reasoned overrides (``overrides``). See ``docs/content-screening.md``."""
