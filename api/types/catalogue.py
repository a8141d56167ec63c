"""Catalogue recommendations (``recommendations(strategy: ...)``) and skill suggestions for
designers (``suggestSkills``): GraphQL over ``recommender.catalogue``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import strawberry

from api import access
from api.context import Info
from api.errors import BadInputError, ForbiddenError
from api.ids import to_key, to_keys
from api.limits import check_first
from api.types.item import Item
from api.types.recommend import Reason, Recommendation, RecommendationKind, read_items
from api.types.skill import Skill
from api.types.strategy import RecommendStrategy
from recommender.catalogue import serving
from recommender.catalogue.tagging import SkillTagger, item_document
from recommender.errors import RecommenderError
from recommender.service import mastery_predictor


async def _predictions(info: Info, learner: str, item_ids: Sequence[str]) -> list[float]:
    """The serving tracer's P(correct), else the stored-mastery formula, else 0.5."""
    ctx = info.context
    tracer = await ctx.services.mastery.predictor(learner)
    got = tracer(item_ids) if tracer is not None else np.full(len(item_ids), np.nan)
    index = await ctx.services.recommender.get(ctx.store)
    (rows,) = await ctx.store.mastery_of([learner])
    formula = mastery_predictor(
        index, index.mastery_array({r.skill_id: r.probability for r in rows})
    )
    out = []
    for item, p in zip(item_ids, got.tolist(), strict=True):
        if np.isnan(p):
            p = float(formula([item])[0]) if item in index.item_pos else 0.5
        out.append(float(p))
    return out


async def catalogue_recommendations(
    info: Info,
    learner: str,
    first: int,
    strategy: RecommendStrategy,
    seed_item_ids: list[strawberry.ID] | None,
) -> list[Recommendation]:
    ctx = info.context
    chosen = to_keys(list(seed_item_ids), "Item") if seed_item_ids else []
    try:
        found = await serving.recommend(
            ctx.store,
            learner,
            strategy.value,
            check_first(first, ctx.limits),
            models=ctx.services.catalogue,
            chosen=chosen,
        )
    except RecommenderError as exc:
        raise BadInputError(str(exc)) from None
    success = await _predictions(info, learner, [r.item for r in found])
    recommended = [
        Recommendation(
            item_key=r.item,
            skill_key=r.skills[0] if r.skills else "",
            kind=RecommendationKind.CATALOGUE,
            predicted_success=p,
            reasons=[Reason.from_domain(x) for x in r.reasons],
        )
        for r, p in zip(found, success, strict=True)
    ]
    return await read_items(info, recommended)


@strawberry.type(description="A skill suggested for an item, with the similar tagged items.")
class SkillSuggestion:
    skill_key: str
    score: float
    evidence_keys: list[str]

    @strawberry.field
    async def skill(self, info: Info) -> Skill | None:
        found = await info.context.loaders.skill.load(self.skill_key)
        return Skill.from_domain(found) if found else None

    @strawberry.field(description="Tagged items most like this one that carry the skill.")
    async def evidence(self, info: Info) -> list[Item]:
        found = await info.context.loaders.item.load_many(self.evidence_keys)
        return [Item.from_domain(i) for i in found if i is not None]


async def suggest_skills(
    info: Info, item_id: strawberry.ID | None, text: str | None, first: int
) -> list[SkillSuggestion]:
    ctx = info.context
    denial = access.curriculum_denial(ctx, "suggesting skills")
    if denial is not None:
        raise ForbiddenError(denial)
    if (item_id is None) == (text is None):
        raise BadInputError(
            "give exactly one of itemId (a stored item) or text (a new item's title and body)",
            argument="itemId",
        )
    from recommender.catalogue.loaders import read_items

    graph = await ctx.store.prerequisite_graph()
    items = await read_items(ctx.store)
    exclude = None
    if item_id is not None:
        key = to_key(item_id, "Item")
        found = next((i for i in items if i.id == key), None)
        if found is None:
            raise BadInputError(f"no item {key!r}; check the id", argument="itemId")
        text, exclude = item_document(found), key
    assert text is not None
    try:
        tagger = SkillTagger().fit(items, graph.skills, graph.edges)
        out = tagger.suggest(text, first=check_first(first, ctx.limits), exclude_item=exclude)
    except RecommenderError as exc:
        raise BadInputError(str(exc)) from None
    return [
        SkillSuggestion(skill_key=s.skill_id, score=s.score, evidence_keys=list(s.evidence))
        for s in out
    ]
