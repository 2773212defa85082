"""Optimizers and learning-rate schedules, with PyTorch's API and update rules.

    from minigrad import optim
    opt = optim.Adam(params, lr=1e-3)
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

Each optimizer's docstring states its update; the shared pieces (the start of every step,
moving averages, bias correction) are in ``_moments.py``, and how the parameters are packed
into flat arrays for speed in ``_flat.py``.
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.nadam import NAdam
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.registry import OPTIMIZERS, lookup_optimizer, make_optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "lr_scheduler",
           "OPTIMIZERS", "lookup_optimizer", "make_optimizer"]
