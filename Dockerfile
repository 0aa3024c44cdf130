# identity: `docker build -t identity .`, then see compose.yaml.
# Read-only root file system friendly: the process writes only to /tmp (metrics of the
# workers) and /var/lib/identity (SQLite and generated secrets, unused with PostgreSQL);
# mount both as tmpfs or volumes. Dependencies are pinned by constraints.txt (`make constraints`).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY constraints.txt pyproject.toml README.md ./
COPY identity ./identity
# The wheel, whatever the distribution is called, into a virtual environment without pip.
RUN python -m pip wheel --no-deps --wheel-dir /src/dist . \
    && python -m venv --without-pip /opt/identity \
    && python -m pip --python /opt/identity/bin/python install --no-compile \
        --constraint constraints.txt /src/dist/*.whl \
    && /opt/identity/bin/python -m compileall -q /opt/identity/lib

FROM python:3.11-slim-bookworm
ENV PATH=/opt/identity/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IDENTITY_INSTANCE_DIR=/var/lib/identity \
    IDENTITY_BIND=0.0.0.0:8000
# No installer at run time: the base image's pip and setuptools go (Debian's packages on a
# Debian-built base, pip's own install on the official one).
RUN if dpkg-query -W python3-pip >/dev/null 2>&1; then \
        apt-get purge -y -qq --auto-remove python3-pip python3-setuptools python3-wheel >/dev/null; \
    else \
        python -m pip uninstall -y -q pip setuptools wheel; \
    fi \
    && ! python -c "import pip" 2>/dev/null && ! python -c "import setuptools" 2>/dev/null \
    && groupadd --system --gid 10001 identity \
    && useradd --system --uid 10001 --gid identity --home-dir /var/lib/identity --no-create-home identity \
    && install -d -o identity -g identity -m 0700 /var/lib/identity
COPY --from=build /opt/identity /opt/identity
USER 10001:10001
WORKDIR /var/lib/identity
VOLUME ["/var/lib/identity"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["identity"]
CMD ["serve"]
