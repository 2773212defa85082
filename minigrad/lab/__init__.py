"""The optimizer lab: test functions for optimizers, the comparison runner behind
``minigrad compare``, and the catalogue of differentiable ops behind ``minigrad gradcheck``."""
