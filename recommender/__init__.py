"""The graph-aware path optimizer: what each learner should do next, why, and how far the goal is.

Algorithms work on a :class:`recommender.index.CurriculumIndex` (the curriculum as arrays,
built once per curriculum version) and plain numpy mastery vectors; only
:mod:`recommender.service` touches a store.

* :mod:`~recommender.frontier`: Knowledge Space Theory's outer and inner fringes.
* :mod:`~recommender.paths`: the prioritised path to goal skills, with effort estimates.
* :mod:`~recommender.next_item`: the next item (band, interleaving, reviews, remediation,
  Thompson sampling).
* :mod:`~recommender.review`: FSRS-style forgetting curve and review queue.
* :mod:`~recommender.gaps`: blocking skills and their root causes, per learner and per group.
* :mod:`~recommender.diagnostic`: adaptive placement test over the graph.
* :mod:`~recommender.explain`: the structured reasons attached to every recommendation.

Offline experiments (policies compared on simulated learners, content variants) are not part of
this package: they live in :mod:`seed.simulation`.
"""
