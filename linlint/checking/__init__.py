"""Checking: run the rules over a model's regions, and which rules apply at which level."""
