#!/usr/bin/env bash
# Stops the throwaway PostgreSQL started by scripts/start_test_postgres.sh and deletes its files.
set -euo pipefail

BASE_DIR="${PLAYGROUND_TEST_POSTGRES_DIR:-${TMPDIR:-/tmp}/playground-test-postgres}"
DATA_DIR="$BASE_DIR/data"

if [ ! -e "$BASE_DIR/.playground-test-postgres" ]; then
  echo "No test PostgreSQL made by start_test_postgres.sh in $BASE_DIR; nothing to do." >&2
  exit 0
fi

PG_CTL=$(command -v pg_ctl || ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V -r | head -n 1 || true)
if [ -n "$PG_CTL" ] && [ -f "$DATA_DIR/postmaster.pid" ]; then
  cd /
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$PG_CTL" -D "$DATA_DIR" -m fast -w stop >&2 || true
  else
    "$PG_CTL" -D "$DATA_DIR" -m fast -w stop >&2 || true
  fi
fi
rm -rf "$BASE_DIR"
echo "Stopped and removed the test PostgreSQL in $BASE_DIR." >&2
