"""Offline experiments: recommendation policies compared on simulated learners.

Not part of the product: nothing in ``api/``, ``recommender/``, ``tracing/`` or ``graph/``
imports this package. It drives :func:`recommender.next_item.recommend` the way the API does,
against learners whose true state is known.

* :mod:`~seed.simulation.harness`: runs a policy on a population, items to the goal.
* :mod:`~seed.simulation.policies`: random, topological, frontier and adaptive policies.
* :mod:`~seed.simulation.variants`: content variants and Thompson sampling over their gains.
* :mod:`~seed.simulation.cli`: ``learngraph simulate``.
"""
