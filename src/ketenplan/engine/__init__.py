"""The chain engine: the registry of the chain, compile (scenario -> named kernel inputs), the
numba kernel, a run's state with ``advance`` and hooks, and labelled results.

The public entry that runs ensembles and post-processors is :func:`ketenplan.simulate`.
"""
