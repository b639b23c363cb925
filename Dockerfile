# PIC: ONE image for every function. Which function a container serves is chosen at run time by
# functions-framework's own environment variables, set per Knative Service in infra/k8s:
#   FUNCTION_SOURCE          e.g. functions/consent/main.py (relative to /app, the working directory)
#   FUNCTION_TARGET          e.g. consent_http
#   FUNCTION_SIGNATURE_TYPE  http | cloudevent
#   PORT                     set by Knative (8080 here by default); HOST defaults to 0.0.0.0
# The same image also runs the outbox relay: `python -m functions.core.relay` (see its Deployment).
#
# Build: `make image` (scripts/image.sh; docker or podman). Run one function locally, e.g.:
#   docker run --rm -p 8080:8080 -e FUNCTION_SOURCE=functions/consent/main.py \
#     -e FUNCTION_TARGET=consent_http -e FUNCTION_SIGNATURE_TYPE=http pic-functions:dev
#
# Base image: pinned by exact version. For a reproducible release build pin the digest as well, in
# BOTH `FROM` lines (tests/contract/test_image.py checks they are the same reference):
#   docker buildx imagetools inspect python:3.11.17-slim-bookworm --format '{{.Manifest.Digest}}'
#   (or: docker pull python:3.11.17-slim-bookworm && docker inspect --format '{{index .RepoDigests 0}}' python:3.11.17-slim-bookworm)
# and write `FROM python:3.11.17-slim-bookworm@sha256:<digest>`; Renovate/Dependabot keep it current.
#
# No HEALTHCHECK: Knative and Kubernetes ignore Docker's HEALTHCHECK; readiness and liveness probes
# are declared in the manifests (TCP on 8080 for functions, /healthz for the relay).
#checkov:skip=CKV_DOCKER_2:Knative/Kubernetes ignore Docker HEALTHCHECK; probes are in the infra/k8s manifests

# ---- build stage: a virtual environment with the pinned runtime dependencies, and bytecode ----
FROM python:3.11.17-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Wheels only (--only-binary): nothing is compiled, so no compiler is needed even here. The venv has
# no pip of its own (--without-pip): the base image's pip installs into it, and ships no further.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv --without-pip /opt/venv \
 && python -m pip --python /opt/venv/bin/python install --no-compile --only-binary=:all: \
        -r /tmp/requirements.txt

# Only what the functions import or read at run time (.dockerignore keeps caches and Rego tests out):
# functions/ (the code, and functions/core/data), events/ (the event catalog and data models),
# policies/ (Rego modules and data.json, read by the embedded engine from /app/policies), and the one
# file of local/ that a manifest runs: the event display of the local overlay (a subscriber that logs
# events). The rest of local/ (dev IdP, gateway, broker) never ships.
COPY functions/ /app/functions/
COPY events/ /app/events/
# the published contracts the documentation pages serve (functions/apidocs, issue 19)
COPY schemas/ /app/schemas/
COPY contracts/released/ /app/contracts/released/
COPY policies/ /app/policies/
COPY local/event_display.py /app/local/event_display.py

# Bytecode ahead of time, for cold start: the root filesystem is read-only at run time, so nothing
# could be cached there later. unchecked-hash: valid whatever the files' mtimes (the image is immutable).
RUN python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv /app

# ---- final stage: the interpreter, the venv and the code; no pip install, no build tools ----
FROM python:3.11.17-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="pic-functions" \
      org.opencontainers.image.description="PIC (Plataforma Integral Ciudadana): every Python function, served by functions-framework"

# The manifests run as UID/GID 65532 (runAsUser/runAsGroup); a passwd entry keeps libraries that look
# the user up (getpass, home directory) happy. No home, no login shell.
RUN groupadd --system --gid 65532 pic \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin pic

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8080

# Owned by root and not writable by the runtime user; /tmp is an emptyDir in the manifests.
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app

USER 65532:65532
EXPOSE 8080

# functions-framework reads FUNCTION_TARGET / FUNCTION_SOURCE / FUNCTION_SIGNATURE_TYPE / PORT from the
# environment (no flags here, so Knative's PORT is honoured) and serves with gunicorn.
CMD ["functions-framework"]
