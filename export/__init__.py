"""The export stage: ONNX bundles verified against the trained model (``nerd export``)."""
