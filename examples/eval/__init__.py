"""A toy evaluation harness for the batch-eval example (python3 -m eval.harness)."""
