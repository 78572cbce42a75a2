"""Folding: rewrite exact, worthwhile regions into fewer ops, each fold proven where it happened."""
