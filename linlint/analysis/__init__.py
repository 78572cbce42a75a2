"""Analysis: which tensors are affine in which source, their regions, and normal forms."""
