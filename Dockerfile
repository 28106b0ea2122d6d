# The worker and the codec server: one image, two commands (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    THUISZITTERS_LOG_FORMAT=json

RUN groupadd --system --gid 10001 thuiszitters \
    && useradd --system --uid 10001 --gid thuiszitters --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin thuiszitters

WORKDIR /app

# Only what the package needs: never the local .venv, .data (keys, databases) or an .env file.
COPY pyproject.toml README.md constraints.txt ./
COPY thuiszitters/ thuiszitters/
COPY workflows/ workflows/
COPY activities/ activities/
COPY worker.py starter.py ./
# The versions CI saw (constraints.txt), without the development extra: no Temporal CLI, test server or PostgreSQL.
RUN pip install --constraint constraints.txt . \
    && python -c "import thuiszitters, workflows, activities"

# The code stays owned by root and read-only for the service user.
USER thuiszitters

CMD ["python", "worker.py"]
