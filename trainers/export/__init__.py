"""The student outside PyTorch: one ONNX graph from rays to colour, and running it with onnxruntime."""
