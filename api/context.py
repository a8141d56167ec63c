"""The per-request context every resolver sees, and the per-app services behind it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import strawberry

from analytics.service import ClassAnalytics
from api.auth import AuthConfig, Principal
from api.breaker import StoreBreaker
from api.limits import Limits
from api.loaders import Loaders
from api.pubsub import PubSub
from api.services import ChangeFeed
from api.token_cache import TokenCache
from graph.store import GraphStore
from recommender.catalogue.serving import CatalogueModels
from recommender.engine import Engine, MasteryUpdater
from recommender.gains import GainCache
from recommender.service import IndexCache


@dataclass(slots=True)
class Services:
    """Long-lived helpers shared by all requests of one app."""

    store: GraphStore
    auth: AuthConfig
    limits: Limits
    pubsub: PubSub
    mastery: MasteryUpdater
    changes: ChangeFeed
    schema: strawberry.Schema
    #: the recommender's curriculum index, rebuilt when the change log moves
    recommender: IndexCache = field(default_factory=IndexCache)
    #: items' observed learning gains (Thompson sampling among near-equal items), read from
    #: the stored attempts at most every ``max_age`` seconds
    gains: GainCache = field(default_factory=GainCache)
    #: the catalogue strategies (``recommendations(strategy: ...)``), fitted on the stored
    #: attempts and refitted when the store moved and the fit is older than ``max_age``
    catalogue: CatalogueModels = field(default_factory=CatalogueModels)
    #: a new generator per recommendation request: fresh OS entropy by default; tests and
    #: replays set a seeded factory here
    rng: Callable[[], np.random.Generator] = np.random.default_rng
    #: the wall clock (UTC) that subscriptions check token expiry against; tests move it
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: signs diagnostic states handed to clients (random per process)
    diagnostic_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: what owns ``mastery``, ``recommender`` and ``gains`` and keeps them at one curriculum
    #: (``recommender.engine``; ``api.app.build_services`` builds it); None: fields built apart
    engine: Engine | None = None
    #: fails requests fast while the store is down (built on ``store.ping``; tests replace it)
    breaker: StoreBreaker = field(init=False)
    #: the principals of bearer tokens verified recently (``auth``'s; see api.token_cache)
    tokens: TokenCache = field(init=False)

    #: teacher analytics: timelines, the at-risk model, alerts, segments (``analytics``)
    analytics: ClassAnalytics = field(init=False)

    def __post_init__(self) -> None:
        self.breaker = StoreBreaker(self.store.ping)
        self.tokens = TokenCache(self.auth)
        store, index = self.store, self.recommender
        self.analytics = ClassAnalytics(
            store, self.mastery.history_service, lambda: index.get(store)
        )


@dataclass(slots=True)
class Context:
    services: Services
    principal: Principal | None
    request_id: str
    #: the graphql-transport-ws ``connection_init`` payload (subscriptions only)
    connection_params: dict[str, Any] | None = None
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders, built on first use (a request answered from caches
        alone, or refused before execution, builds none)."""
        if self._loaders is None:
            self._loaders = Loaders.for_store(self.services.store)
        return self._loaders

    @property
    def store(self) -> GraphStore:
        return self.services.store

    @property
    def limits(self) -> Limits:
        return self.services.limits

    def fresh_loaders(self) -> None:
        """Drop cached lookups (a subscription calls this before each event it sends)."""
        self._loaders = None


Info = strawberry.Info[Context, None]
