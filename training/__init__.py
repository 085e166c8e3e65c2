"""Build, train, evaluate and compare the study's CIFAR-10 models (Keras 3)."""
