"""Optimizers by name: the ones ``minigrad train --optimizer`` and ``minigrad compare`` offer.

    from minigrad import optim
    opt = optim.make_optimizer("nesterov", model.parameters(), lr=0.05)
    optim.lookup_optimizer("adam").lr      # the learning rate that suits the digits MLP
    optim.hyperparameter_names("sgd")      # ['lr', 'momentum', 'dampening', ...]

A name can stand for a variant of a class ("momentum" is ``SGD`` with ``momentum=0.9``), so
the command line offers the optimizers a course teaches, not only the classes.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass

from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.nadam import NAdam
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD


@dataclass(frozen=True)
class OptimizerChoice:
    """An optimizer by name: its class, the arguments that make this variant of it, and
    the learning rate that suits the digits MLP (used when none is given)."""

    cls: type[Optimizer]
    variant: dict
    lr: float


# Every argument not named here is the class's own (PyTorch's) default unless overridden.
OPTIMIZERS: dict[str, OptimizerChoice] = {
    "sgd": OptimizerChoice(SGD, {}, 0.1),
    "momentum": OptimizerChoice(SGD, {"momentum": 0.9}, 0.02),
    "nesterov": OptimizerChoice(SGD, {"momentum": 0.9, "nesterov": True}, 0.02),
    "adagrad": OptimizerChoice(Adagrad, {}, 0.05),
    "rmsprop": OptimizerChoice(RMSprop, {}, 1e-3),
    "adam": OptimizerChoice(Adam, {}, 1e-3),
    "adamw": OptimizerChoice(AdamW, {}, 1e-3),
    "nadam": OptimizerChoice(NAdam, {}, 2e-3),
}


def lookup_optimizer(name: str) -> OptimizerChoice:
    """The entry of ``OPTIMIZERS`` called ``name``; an unknown name raises ``ValueError``
    listing the known ones."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]


def hyperparameter_names(name: str) -> list[str]:
    """The keyword arguments optimizer ``name`` accepts (``lr``, ``betas``, ...)."""
    return [p for p in inspect.signature(lookup_optimizer(name).cls).parameters
            if p != "params"]


def make_optimizer(name: str, params: Iterable, **hyperparameters) -> Optimizer:
    """Optimizer ``name`` over ``params``; ``hyperparameters`` override its defaults."""
    choice = lookup_optimizer(name)
    allowed = hyperparameter_names(name)
    unknown = sorted(set(hyperparameters) - set(allowed))
    if unknown:
        raise ValueError(f"optimizer {name} has no hyperparameter {', '.join(unknown)}; "
                         f"it takes {', '.join(allowed)}")
    return choice.cls(params, **{**choice.variant, **hyperparameters})


__all__ = ["OptimizerChoice", "OPTIMIZERS", "lookup_optimizer", "hyperparameter_names",
           "make_optimizer"]
