"""The op catalogue: every differentiable op, layer and loss, with a NumPy reference for each
(``cases.py``), and the gradient checks run over it (``checks.py``), behind ``minigrad
gradcheck``. The test suite drives its forward, gradcheck, gradgradcheck and broadcasting
tests from the same list, so a new op is covered by adding one entry.

    from minigrad.catalogue import checks
    print(checks.format_results(checks.check_all(checks.select(["softmax"]))))
"""
