"""Generation through the official ``openai`` SDK: OpenAI, any compatible server, or the
embedded local model. Plain synchronous code; the UI runs it off the GUI thread."""
