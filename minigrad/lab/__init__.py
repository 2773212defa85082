"""The optimizer lab: test functions for optimizers (``testfunctions``), the comparison
runner behind ``minigrad compare`` (``compare``) and the runnable claims of the examples
(``experiment``). The op catalogue behind ``minigrad gradcheck`` is ``minigrad.catalogue``."""
