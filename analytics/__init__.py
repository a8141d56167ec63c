"""Class analytics for teachers: mastery history, at-risk prediction, alerts, segments, export.

Below ``api/`` and above the algorithm packages: it reads a store's attempts, replays them
through a tracer (``tracing``) and answers with plain dataclasses; nothing here knows GraphQL.
"""

from analytics.errors import AnalyticsError

__all__ = ["AnalyticsError"]
