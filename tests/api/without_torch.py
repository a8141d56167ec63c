"""Run by ``test_without_torch.py`` in a fresh interpreter: serve on SQLite with torch and
torch_geometric made unimportable, as on an install without the ``neural`` extra.

    python tests/api/without_torch.py WORKDIR

Exits 0 when every check passed (each ``assert`` names what broke) and prints ``ok``.
"""

from __future__ import annotations

import importlib.abc
import sys

BLOCKED = ("torch", "torch_geometric")


class _NoNeuralExtra(importlib.abc.MetaPathFinder):
    """Refuses torch and torch_geometric the way a missing package does, and remembers each
    try (``tried``): the BKT serving path should not even try."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in BLOCKED:
            self.tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


# before anything else is imported
BLOCKER = _NoNeuralExtra()
sys.meta_path.insert(0, BLOCKER)

import asyncio  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

PIP = "pip install 'learngraph[neural]'"
LEARNER = "learner-0001"
SECRET = "a-test-secret-without-torch-0123456789"


def run_cli(*argv: str) -> tuple[int, str]:
    """``learngraph ARGV`` in this process: its exit status and stderr."""
    from api.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, err.getvalue()


async def check_serving(db: str) -> None:
    """The app builds (its lifespan: store, BKT serving model, indexes), serves a
    recommendation and records an attempt; a catalogue strategy that trains in torch says
    what to install."""
    import httpx

    from api.app import ApiSettings, create_app
    from api.auth import AuthConfig, issue_token
    from graph.models import Role

    auth = AuthConfig("HS256", SECRET, SECRET)
    learner = {"authorization": f"Bearer {issue_token(auth, LEARNER, Role.LEARNER)}"}
    app = create_app(ApiSettings(auth=auth), db_url=db)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):

        async def gql(query: str) -> dict[str, Any]:
            response = await client.post("/graphql", json={"query": query}, headers=learner)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["model"] == "loaded", health.text

        recs = await gql(
            f'{{ learner(id: "{LEARNER}") {{ recommendations(first: 2) '
            "{ kind item { key } } } }"
        )
        assert "errors" not in recs, recs
        found = recs["data"]["learner"]["recommendations"]
        assert len(found) == 2 and all(r["item"]["key"] for r in found), recs

        item = found[0]["item"]["key"]
        recorded = await gql(
            'mutation { recordAttempts(input: [{attemptId: "no-torch-1", '
            f'learnerId: "{LEARNER}", itemId: "{item}", score: 1}}]) {{ __typename '
            "... on RecordAttemptsPayload { storedIds mastery { probability } } "
            "... on Error { message } } }"
        )
        payload = recorded["data"]["recordAttempts"]
        assert payload["__typename"] == "RecordAttemptsPayload", recorded
        assert payload["storedIds"] == ["no-torch-1"] and payload["mastery"], recorded
        assert not BLOCKER.tried, f"the BKT serving path tried to import {BLOCKER.tried}"

        embedding = await gql(
            f'{{ learner(id: "{LEARNER}") {{ recommendations(first: 2, strategy: EMBEDDING) '
            "{ item { key } } } }"
        )
        messages = [e["message"] for e in embedding.get("errors", [])]
        assert any(
            "'embedding' strategy needs the 'neural' extra" in m and PIP in m for m in messages
        ), embedding
        hybrid = await gql(
            f'{{ learner(id: "{LEARNER}") {{ recommendations(first: 2, strategy: HYBRID) '
            "{ item { key } } } }"
        )
        messages = [e["message"] for e in hybrid.get("errors", [])]
        assert any("'hybrid' strategy needs the 'neural' extra" in m for m in messages), hybrid


async def check_traced_by_bkt(db: str) -> None:
    from graph.open import open_store

    store = await open_store(db)
    try:
        (rows,) = await store.mastery_of([LEARNER])
        assert rows and {m.model_version for m in rows} == {"bkt-default"}, rows
    finally:
        await store.close()


async def activate_gnn_as_admin(db: str) -> dict[str, Any]:
    """``activateTracerModel(key: "gnn-v1")`` over GraphQL, as an admin."""
    import httpx

    from api.app import ApiSettings, build_services, create_app, drain_tasks
    from api.auth import AuthConfig, issue_token
    from graph.models import Role
    from graph.open import open_store

    auth = AuthConfig("HS256", SECRET, SECRET)
    store = await open_store(db)
    try:
        settings = ApiSettings(auth=auth)
        app = create_app(settings, services=await build_services(store, settings))
        token = issue_token(auth, "admin-01", Role.ADMIN)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            response = await client.post(
                "/graphql",
                json={
                    "query": 'mutation { activateTracerModel(key: "gnn-v1") { __typename '
                    "... on ValidationError { message } } }"
                },
                headers={"authorization": f"Bearer {token}"},
            )
        await drain_tasks()
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["data"]["activateTracerModel"]
        return result
    finally:
        await store.close()


async def set_serving_model(db: str, key: str) -> None:
    from graph.open import open_store

    store = await open_store(db)
    try:
        await store.set_serving_model(key)
    finally:
        await store.close()


def main() -> None:
    work = Path(sys.argv[1])
    db = f"sqlite:///{work / 'learngraph.db'}"
    models = work / "models"
    os.environ["LEARNGRAPH_MODELS"] = str(models)
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    else:
        raise AssertionError("torch imported: the blocker does not work")
    BLOCKER.tried.clear()

    assert run_cli("migrate", "--db", db)[0] == 0
    assert run_cli("seed", "--db", db, "--learners", "3", "--seed", "7", "--quiet")[0] == 0
    asyncio.run(check_serving(db))
    asyncio.run(check_traced_by_bkt(db))

    # training a neural tracer: the CLI's one-line error, not a traceback
    status, err = run_cli("trace", "train", "--model", "gnn", "--db", db, "--epochs", "1")
    assert status == 2 and err.startswith("error: the 'gnn' tracer needs") and PIP in err, err

    # a registered GNN (trained where the extra is installed) cannot be activated here...
    models.mkdir()
    record = {
        "name": "gnn",
        "version": 1,
        "model": "gnn",
        "file": "gnn-v1.model",
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    (models / "registry.json").write_text(json.dumps({"models": [record]}))
    result = asyncio.run(activate_gnn_as_admin(db))
    assert result["__typename"] == "ValidationError", result
    assert PIP in str(result["message"]), result

    # ...nor served: `serve` refuses before binding a port, the app's start-up too
    asyncio.run(set_serving_model(db, "gnn-v1"))
    status, err = run_cli("serve", "--db", db, "--port", "1")
    assert status == 2 and "the 'gnn' tracer needs" in err and PIP in err, err
    from tracing.extras import NeuralExtraMissingError

    try:
        asyncio.run(check_serving(db))
    except NeuralExtraMissingError as exc:
        assert PIP in str(exc), exc
    else:
        raise AssertionError("the app served a store whose serving model is a GNN")

    leaked = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    assert not leaked, leaked
    check_every_module_but_the_neural_ones_imports()
    print("ok")


#: the modules that are the neural tracers themselves: the only ones that may import torch
NEURAL_TRACER_MODULES = {
    "tracing.dkt",
    "tracing.gnn",
    "tracing.gnn_attention",
    "tracing.gnn_batch",
    "tracing.gnn_recap",
    "tracing.gnn_recurrent",
}


def check_every_module_but_the_neural_ones_imports() -> None:
    """A module-level ``import torch`` added anywhere else (a serving module, a CLI) fails."""
    import importlib
    import pkgutil

    failed: dict[str, str | None] = {}
    for package in ("api", "analytics", "graph", "migrations", "recommender", "seed", "tracing"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            try:
                importlib.import_module(info.name)
            except ImportError as exc:
                failed[info.name] = exc.name
    outside = {m: why for m, why in failed.items() if m not in NEURAL_TRACER_MODULES}
    assert not outside, f"these modules need torch to import: {outside}"


if __name__ == "__main__":
    main()
