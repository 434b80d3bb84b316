# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# The service's wheel and every dependency's, built here once: the image installs them offline.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AUDIENCES_HOST=0.0.0.0 \
    AUDIENCES_PORT=8000 \
    AUDIENCES_DATA_DIR=/data
# tini runs as PID 1: it passes SIGTERM on to the service and reaps orphans. The embedded
# PostgreSQL detaches from the service, so without an init its processes would never be reaped.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 audiences \
    && mkdir -p /data && chown audiences:audiences /data
COPY --from=build /wheels /wheels
# --no-index: only the wheels built above, nothing fetched at this stage.
RUN pip install --no-cache-dir --no-index --find-links /wheels audiences && rm -rf /wheels
USER audiences
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"
# Applies the migrations, then serves; without AUDIENCES_DATABASE_URL on an embedded PostgreSQL
# in /data. Logs are JSON lines (stderr is not a terminal). A stop lets requests in flight
# finish (up to 30 s): give `docker stop` a longer timeout than its default 10 s (-t 45).
ENTRYPOINT ["/usr/bin/tini", "--", "audiences"]
CMD ["serve"]
