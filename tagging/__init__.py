"""The tagging stack: a model (an exported bundle or a training checkpoint) reading words into labels.

``encoding`` (words to windows), ``window_tagger`` (what every tagger does alike), ``onnx_tagger`` and
``torch_tagger`` (the two runtimes, side by side), ``checkpoint`` (a training directory, checked),
``reading`` (aggregation, decoding and what a tagger answers), ``opening`` (the one place that opens
"a model", whatever it is).
"""
