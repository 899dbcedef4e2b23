"""The annotation stage: requests out to an LLM teacher (``prompts``), its answers back in (``importing``)."""
