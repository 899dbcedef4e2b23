"""The training stage: fine-tuning an encoder on distilled and original data (``nerd train``)."""
