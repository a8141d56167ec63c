"""Publishes the alerts new answers raise to ``alertRaised`` subscribers of their groups.

After ``recordAttempts`` stores answers, :func:`publish_raised` runs as background work
(``ClassAnalytics.spawn``), off the answer's path: for each learner with new answers, the
groups they are in that someone watches (no subscriber: nothing is computed), then the alerts
those answers raised (``analytics.alerts.raised``), kept in the store
(``GraphStore.raise_alerts``, idempotent by key), one message per group and alert.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from analytics.alerts import to_stored
from api.context import Services
from api.pubsub import ALERT_PREFIX, alert_topic

log = logging.getLogger("learngraph.api")


def anyone_watching(services: Services) -> bool:
    """Whether any alert subscription is open here (none: new answers cost nothing more)."""
    watched = getattr(services.pubsub, "watched", None)
    return True if watched is None else bool(watched(ALERT_PREFIX))


def _watched(services: Services, topic: str) -> bool:
    count = getattr(services.pubsub, "subscriber_count", None)
    return True if count is None else bool(count(topic))


async def publish_raised(services: Services, fresh: Mapping[str, Sequence[str]]) -> int:
    """``fresh``: learner id -> the attempt ids just stored. Returns the messages sent."""
    sent = 0
    try:
        learners = sorted(fresh)
        groups = await services.store.groups_of_learners(learners)
        for lid, found in zip(learners, groups, strict=True):
            topics = [(g.id, alert_topic(g.id)) for g in found]
            topics = [(gid, t) for gid, t in topics if _watched(services, t)]
            if not topics:
                continue
            alerts = await services.analytics.raised(lid, fresh[lid])
            if alerts:
                now = services.clock()
                await services.store.raise_alerts([to_stored(a, now) for a in alerts])
            for alert in alerts:
                for gid, topic in topics:
                    await services.pubsub.publish(topic, (gid, alert))
                    sent += 1
    except Exception:  # background work: log, never lose the answer's response over it
        log.exception("alerts for new answers of %d learner(s) not published", len(fresh))
    return sent
