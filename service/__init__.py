"""The serving stage: an air-gapped NER endpoint on onnxruntime (``nerd serve``). Never imports torch."""
