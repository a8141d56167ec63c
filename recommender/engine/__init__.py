"""The orchestration of a serving process: the store, the caches and the serving model.

One :class:`Engine` per app (built at the composition root, ``api.app``) owns the curriculum
read shared per change-log seq (:mod:`recommender.engine.curriculum`), the recommender's index,
the items' gains and the serving tracer (:mod:`recommender.engine.tracer`). This is the only
part of ``recommender`` that imports ``tracing``; nothing here imports the API's frameworks
(``tests/recommender/test_engine.py`` pins both rules).
"""

from recommender.engine.curriculum import CurriculumReads, CurriculumSnapshot
from recommender.engine.engine import Engine
from recommender.engine.tracer import MasteryUpdater, ServedModel, ServingPredictions

__all__ = [
    "CurriculumReads",
    "CurriculumSnapshot",
    "Engine",
    "MasteryUpdater",
    "ServedModel",
    "ServingPredictions",
]
