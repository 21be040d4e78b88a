#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need on this machine first:
# Debian's chromium for the browser tests and, when CI is set, a throwaway PostgreSQL.
# `scripts/test.sh --fast` runs only the fast tier (unit tests, and service tests on the fake
# backend and a temporary SQLite file): no model, browser or server, about a minute.
# The import contracts (pyproject.toml [tool.importlinter]), ruff and mypy are checked first either way.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

fast=""
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi

echo ">>> Checking the import contracts"
if ! .venv/bin/lint-imports; then
  echo "An import contract is broken (see above): fix the import, do not loosen the contract." >&2
  exit 1
fi

echo ">>> Linting (ruff check, ruff format --check) and type checking (mypy playground storage)"
if ! .venv/bin/ruff check . || ! .venv/bin/ruff format --check .; then
  echo "ruff found problems (see above): 'ruff check --fix .' and 'ruff format .' fix most of them." >&2
  exit 1
fi
if ! .venv/bin/mypy; then
  echo "mypy found type errors (see above)." >&2
  exit 1
fi

if [ -n "$fast" ]; then
  "$PY" -m pytest tests/unit tests/service "$@"
  exit $?
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  echo ">>> Installing Debian's chromium for the browser tests"
  (as_root apt-get update -q && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q chromium) >/tmp/playground-apt.log 2>&1 \
    || echo ">>> Could not install chromium (see /tmp/playground-apt.log); browser tests will be skipped with that reason"
fi

if [ -n "${CI:-}" ] && [ -z "${PLAYGROUND_TEST_POSTGRES_URL:-}" ]; then
  echo ">>> Starting a throwaway PostgreSQL for the storage tests"
  if url=$(bash scripts/start_test_postgres.sh); then
    export PLAYGROUND_TEST_POSTGRES_URL="$url"
  else
    echo ">>> PostgreSQL could not be started; its tests will FAIL in CI" >&2
    export PLAYGROUND_TEST_POSTGRES_URL="postgresql://unavailable.invalid/none"
  fi
fi

# The slowest tests are listed at the end, so CI's time (budget: 30 minutes on 2 cores) can be watched.
"$PY" -m pytest --durations=25 "$@"
status=$?
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: treating that as a failure" >&2
  exit 1
fi
exit "$status"
