"""Export trained Keras models to ONNX files that follow the model contract."""
