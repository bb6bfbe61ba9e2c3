# voxnumbers API server. Build:  docker build -t voxnumbers .
# Run:  docker run --init -p 8000:8000 -e VOX_DATABASE_URL=postgresql://… voxnumbers
# (run `vox migrate` once first on PostgreSQL; see docs/operations.md).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The client distribution provides the `vox` command; the server plugs its commands into it.
COPY client/pyproject.toml client/pyproject.toml
COPY client/src client/src
COPY pyproject.toml README.md constraints.txt ./
COPY src src
# The versions of constraints.txt (what the tests ran with; `./dev lock` regenerates it).
RUN python -m venv /opt/vox \
 && /opt/vox/bin/pip install -c constraints.txt ./client .

FROM python:3.11-slim
ENV PATH=/opt/vox/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VOX_HOST=0.0.0.0 \
    VOX_PORT=8000
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /app vox \
 && install -d -o vox -g vox /app/var
COPY --from=build /opt/vox /opt/vox
WORKDIR /app
USER vox
# SQLite's file (the default database) and the demo state live here; mount a volume to keep
# them. Unused on PostgreSQL.
VOLUME ["/app/var"]
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('VOX_PORT', '8000'), timeout=4)"]
CMD ["vox", "serve", "--no-demo"]
