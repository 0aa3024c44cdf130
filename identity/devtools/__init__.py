"""Development tools: the mock Infobip upstream used by tests and README's walk-through."""
