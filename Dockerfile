# learngraph API image: `learngraph serve` on 0.0.0.0:8000 (see README, "Deployment").
#
#   docker build -t learngraph .                      # PyTorch's CPU build (no CUDA download)
#   docker build --build-arg TORCH_INDEX= -t learngraph .   # PyPI's torch (the CUDA build)
#
# Written without Docker at hand: not built or run where it was written.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch from PyTorch's CPU wheel index first: the serving tracers run on the CPU, and PyPI's
# Linux x86_64 torch pulls the CUDA libraries (several GB). torch-geometric and the rest come
# from PyPI; pip keeps the torch already installed, since it meets `torch>=2.2`.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN if [ -n "$TORCH_INDEX" ]; then pip install --index-url "$TORCH_INDEX" torch; fi

WORKDIR /srv/learngraph
COPY pyproject.toml README.md ./
COPY api ./api
COPY analytics ./analytics
COPY graph ./graph
COPY migrations ./migrations
COPY recommender ./recommender
COPY seed ./seed
COPY tracing ./tracing
RUN pip install . && useradd --system --create-home --home-dir /home/learngraph learngraph \
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
