# Production image, for both processes (see docker-compose.yml): by default the web process
# (Dash + REST + Socket.IO on 8050); with the command `lawgrid ingest`, the device listeners
# (JT/T 808 on 5015, OsmAnd on 5055), one listener process per core (up to four) sharing those
# ports, LAWGRID_INGEST_PROCESSES to choose. PostGIS and Redis run as their own services.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libexpat1 \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 lawgrid
WORKDIR /app

COPY pyproject.toml README.md ./
COPY lawgrid ./lawgrid
COPY geo ./geo
COPY ingest ./ingest
COPY dashboard ./dashboard
COPY data/reference ./data/reference
RUN pip install -e '.[prod]'

USER lawgrid
EXPOSE 8050 5015 5055
# Migrate, load the Binhai reference data if missing, then serve: one gevent worker, where an
# open dashboard is a greenlet, not a thread; scale out with more containers and Redis.
CMD ["sh", "-c", "lawgrid db upgrade && exec gunicorn -k gevent --workers 1 --worker-connections 4000 --bind 0.0.0.0:8050 'lawgrid.wsgi:server'"]
