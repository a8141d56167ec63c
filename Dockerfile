# learngraph API image: `learngraph serve` on 0.0.0.0:8000 (see README, "Deployment").
#
#   docker build -t learngraph .                                # slim: BKT / Elo, no torch
#   docker build --build-arg EXTRAS=neural -t learngraph .      # + DKT and the GNN tracer,
#                                                               # PyTorch's CPU build
#   docker build --build-arg EXTRAS=neural --build-arg TORCH_INDEX= -t learngraph .
#                                                               # + PyPI's torch (CUDA build)
#
# Written without Docker at hand: not built or run where it was written.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The default image serves with BKT or Elo and has no torch (about 0.5 GB of Python packages;
# the extra with PyPI's torch adds 5.6 GB: docs/benchmarks.md, "Install size"). A store whose
# serving model is a GNN or DKT needs EXTRAS=neural, or the server refuses to start and says so.
ARG EXTRAS=
# With the neural extra, torch comes from PyTorch's CPU wheel index first: the serving
# tracers run on the CPU, and PyPI's Linux x86_64 torch pulls the CUDA libraries (several GB).
# torch-geometric comes from PyPI; pip keeps the torch already installed (it meets the pin).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN if [ -n "$EXTRAS" ] && [ -n "$TORCH_INDEX" ]; then \
        pip install --index-url "$TORCH_INDEX" torch; \
    fi

WORKDIR /srv/learngraph
COPY pyproject.toml README.md ./
COPY api ./api
COPY analytics ./analytics
COPY graph ./graph
COPY migrations ./migrations
COPY recommender ./recommender
COPY seed ./seed
COPY tracing ./tracing
RUN pip install ".${EXTRAS:+[$EXTRAS]}" && useradd --system --create-home --home-dir /home/learngraph learngraph \
    && mkdir -p /data/models && chown -R learngraph /data

USER learngraph
# the embedded store and the model registry live on a volume; point LEARNGRAPH_DB at Neo4j
# (bolt://...) in production
ENV LEARNGRAPH_DB=sqlite:////data/learngraph.db \
    LEARNGRAPH_MODELS=/data/models \
    LEARNGRAPH_WORKERS=1
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

# --production: refuses the development JWT secret, no GraphiQL, no introspection.
# More than one worker needs LEARNGRAPH_REDIS_URL.
CMD ["sh", "-c", "exec learngraph serve --production --host 0.0.0.0 --port 8000 --workers \"$LEARNGRAPH_WORKERS\""]
