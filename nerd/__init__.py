"""nerd: NER distillation for closed networks.

``nerd`` is the one import name. This folder (``nerd/``) holds the vocabulary every stage shares: labels
and IOB2 spans, CoNLL I/O, the training-data record, model bundles, raw-text tokenisation and the
project's errors. The stages (``nerd.annotation``, ``nerd.training``, ``nerd.export``, ``nerd.service``,
...) and the CLI (``nerd.cli``) are subpackages built from the folders of the same names beside it.
"""

__version__ = "0.1.0"
