"""The batch backend: one decision for a whole population, column-wise (see engine.py).

`evaluate_batch` here is the one entry: on this process (engine.py), or, with a
dask.distributed `scheduler`, split across a cluster (distributed.py).
"""
from __future__ import annotations


def evaluate_batch(policies, decision, data, scheduler=None, **options):
    """engine.evaluate_batch, on this process or across `scheduler`'s workers."""
    if scheduler is not None:
        from .distributed import evaluate_distributed
        return evaluate_distributed(policies, decision, data, scheduler, **options)
    from .engine import evaluate_batch as here
    return here(policies, decision, data, **options)
