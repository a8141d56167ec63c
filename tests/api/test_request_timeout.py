"""The request timeout: test apps never depend on it, and a request that outlives it is
answered honestly."""

from __future__ import annotations

from api.limits import Limits
from tests.api.conftest import TEST_TIMEOUT_S, Api, ApiFactory


async def test_test_apps_do_not_depend_on_the_machine_speed(api: Api) -> None:
    assert api.services.limits.timeout_s == TEST_TIMEOUT_S > Limits().timeout_s


async def test_a_test_of_the_timeout_keeps_its_own(make_api: ApiFactory) -> None:
    api = await make_api(Limits(timeout_s=0.2, max_batch=3))
    assert (api.services.limits.timeout_s, api.services.limits.max_batch) == (0.2, 3)
    other = await make_api(Limits(max_batch=3))
    assert (other.services.limits.timeout_s, other.services.limits.max_batch) == (
        TEST_TIMEOUT_S,
        3,
    )
