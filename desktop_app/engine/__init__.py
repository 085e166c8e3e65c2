"""Qt-free inference engine: model discovery, sessions, image loading, batches.

Imports only the runtime stack (onnxruntime, NumPy, Pillow); the command line,
the GUI, the tests and the benchmarks all use it directly.
"""
