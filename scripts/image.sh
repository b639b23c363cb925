#!/usr/bin/env bash
# Builds PIC's one container image (Dockerfile) with docker, or podman when docker cannot build.
#   make image                      -> pic-functions:dev
#   PIC_IMAGE=registry/pic-functions:1.2.3 make image
#   scripts/image.sh --no-cache     (extra arguments go to `<engine> build`)
# PIC_CONTAINER_ENGINE=docker|podman forces one.
#
# Exit codes: 0 built; 1 the build failed; 2 no usable container engine here (the message says what is
# missing: a CLI without a running engine counts as missing, since it cannot build).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${PIC_IMAGE:-pic-functions:dev}
say() { printf '\033[1m[image]\033[0m %s\n' "$*"; }

engines=(docker podman)
[ -n "${PIC_CONTAINER_ENGINE:-}" ] && engines=("$PIC_CONTAINER_ENGINE")

engine="" problems=()
for candidate in "${engines[@]}"; do
  if ! command -v "$candidate" >/dev/null; then
    problems+=("$candidate: not installed")
    continue
  fi
  if info=$(timeout 20 "$candidate" info 2>&1 >/dev/null); then
    engine=$candidate
    break
  fi
  version=$("$candidate" --version 2>/dev/null | head -1)
  problems+=("$candidate: CLI found (${version:-version unknown}) but no engine running -- \`$candidate info\` says: $(printf '%s' "$info" | grep -v '^\s*$' | tail -1)")
done

if [ -z "$engine" ]; then
  say "cannot build $IMAGE: no usable container engine on this machine."
  printf '  - %s\n' "${problems[@]}"
  say "start the Docker engine (e.g. \`systemctl start docker\`, or Docker Desktop), or install podman (\`apt-get install podman\`: it needs no daemon), then run \`make image\` again."
  say "the Dockerfile is still checked without an engine: tests/contract/test_image.py and \`make infra-check\` (checkov)."
  exit 2
fi

say "building $IMAGE with $engine"
start=$(date +%s)
build=("$engine" build --pull -t "$IMAGE" -f Dockerfile "$@" .)
if [ "$engine" = docker ]; then DOCKER_BUILDKIT=1 "${build[@]}"; else "${build[@]}"; fi
say "built $IMAGE in $(( $(date +%s) - start ))s: $("$engine" image inspect --format '{{.Id}} {{.Size}} bytes' "$IMAGE" 2>/dev/null || true)"
say "run one function: $engine run --rm -p 8080:8080 -e FUNCTION_SOURCE=functions/consent/main.py -e FUNCTION_TARGET=consent_http -e FUNCTION_SIGNATURE_TYPE=http $IMAGE"
