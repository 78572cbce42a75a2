"""Verification: run two models on the same inputs with onnxruntime and compare every output."""
