# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AUDIENCES_HOST=0.0.0.0 \
    AUDIENCES_PORT=8000 \
    AUDIENCES_DATA_DIR=/data
RUN useradd --create-home --uid 10001 audiences \
    && mkdir -p /data && chown audiences:audiences /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER audiences
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"
# Applies the migrations, then serves. Without AUDIENCES_DATABASE_URL it runs an embedded
# PostgreSQL in /data.
ENTRYPOINT ["audiences"]
CMD ["serve"]
