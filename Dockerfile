# Kortkontor's image: `kortkontor serve` as an unprivileged user, healthy while /readyz answers 200.
#   docker build -t kortkontor .        (podman: podman build --format docker -t kortkontor .)
# deploy/compose.yaml runs it with PostgreSQL; docs/operations.md says how to run it.

# The build stage installs Kortkontor and its pinned dependencies into a virtual environment;
# the runtime stage copies only that and the source, without pip's caches or build tools.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY kortkontor/ kortkontor/
COPY models/ models/
COPY scheduler/ scheduler/
COPY bot/ bot/
COPY web/ web/
COPY payout/ payout/
COPY migrations/ migrations/
COPY locales/ locales/
# Editable: the code finds locales/ and migrations/ beside its packages, as in a checkout.
RUN python -m venv /opt/kortkontor \
    && /opt/kortkontor/bin/pip install --editable . \
    && /opt/kortkontor/bin/python -m compileall -q /app

FROM python:3.11-slim-bookworm
# DejaVu Sans sets any script an administrator's name may use in the payout PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/kortkontor \
        --create-home --shell /usr/sbin/nologin kortkontor
COPY --from=build /opt/kortkontor /opt/kortkontor
COPY --from=build /app /app
ENV PATH=/opt/kortkontor/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8000 \
    LOG_FORMAT=json
WORKDIR /var/lib/kortkontor
# Numeric, so that a runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# Healthy only when ready: the database answers at the newest migration, and the bot and the
# dispatcher run. urlopen raises on a 503 (or no answer), and the check fails.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('WEB_PORT', '8000') + '/readyz', timeout=8)"]
ENTRYPOINT ["kortkontor"]
CMD ["serve"]
