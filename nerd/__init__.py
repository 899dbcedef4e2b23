"""nerd: NER distillation for closed networks.

This package holds the CLI and the vocabulary every stage shares: labels and IOB2 spans, CoNLL I/O,
the training-data record, raw-text tokenisation and the project's errors.
"""

__version__ = "0.1.0"
