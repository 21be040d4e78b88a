#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL server for the storage tests and prints its URL:
#
#   export PLAYGROUND_TEST_POSTGRES_URL=$(bash scripts/start_test_postgres.sh)
#
# stdout carries exactly one line, the URL; everything else goes to stderr.
# Installs Debian's postgresql if initdb/pg_ctl are missing (needs root or passwordless sudo).
# The cluster lives in $PLAYGROUND_TEST_POSTGRES_DIR (default /tmp/playground-test-postgres),
# listens on 127.0.0.1 only, trusts every local connection, and keeps running after this
# script ends; running the script again reuses it. Stop and delete it with
# scripts/stop_test_postgres.sh.
set -euo pipefail
exec 3>&1 1>&2

BASE_DIR="${PLAYGROUND_TEST_POSTGRES_DIR:-${TMPDIR:-/tmp}/playground-test-postgres}"
DATA_DIR="$BASE_DIR/data"
DB_NAME=playground_test
FIRST_PORT=55432

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

find_pg_bin() {
  local dir
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

if ! PG_BIN=$(find_pg_bin); then
  echo ">>> Installing Debian's postgresql (initdb/pg_ctl not found)"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q postgresql
  PG_BIN=$(find_pg_bin) || { echo "initdb/pg_ctl still not found after installing postgresql" >&2; exit 1; }
fi

# The server refuses to run as root: as root, run it as the postgres system user.
if [ "$(id -u)" = 0 ]; then
  PG_USER=postgres
  id "$PG_USER" >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh "$PG_USER"
  if command -v runuser >/dev/null 2>&1; then
    as_pg() { runuser -u "$PG_USER" -- "$@"; }
  else
    as_pg() { su "$PG_USER" -s /bin/sh -c "$(printf '%q ' "$@")"; }
  fi
else
  PG_USER=$(id -un)
  as_pg() { "$@"; }
fi

port_in_use() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

server_running() { [ -d "$DATA_DIR" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1; }

ensure_database() {
  local port=$1
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -t 30
  if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME"
  fi
}

cd /  # the postgres user may not be allowed into the caller's directory

if server_running && [ -f "$BASE_DIR/port" ]; then
  PORT=$(cat "$BASE_DIR/port")
  echo ">>> Reusing the test PostgreSQL in $BASE_DIR on port $PORT"
else
  if [ -d "$DATA_DIR" ]; then  # left over from a server that is no longer running
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -e "$BASE_DIR" ] && [ ! -e "$BASE_DIR/.playground-test-postgres" ] && [ -n "$(ls -A "$BASE_DIR")" ]; then
    echo "$BASE_DIR exists and was not made by this script; not deleting it. Set PLAYGROUND_TEST_POSTGRES_DIR." >&2
    exit 1
  fi
  rm -rf "$BASE_DIR"
  mkdir -p "$BASE_DIR"
  touch "$BASE_DIR/.playground-test-postgres"
  chown "$PG_USER" "$BASE_DIR"
  chmod 700 "$BASE_DIR"

  PORT=$FIRST_PORT
  while port_in_use "$PORT"; do
    PORT=$((PORT + 1))
    [ "$PORT" -lt $((FIRST_PORT + 200)) ] || { echo "No free port in $FIRST_PORT-$PORT" >&2; exit 1; }
  done

  echo ">>> Creating a throwaway PostgreSQL cluster in $BASE_DIR (port $PORT)"
  as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$BASE_DIR/initdb.log" 2>&1 \
    || as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$BASE_DIR/initdb.log" 2>&1 \
    || { cat "$BASE_DIR/initdb.log" >&2; exit 1; }
  # Throwaway data: durability settings off for speed. "3>&-": the server must not inherit the
  # URL pipe, or "$(start_test_postgres.sh)" would wait for the server to exit.
  as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -w -t 60 -l "$BASE_DIR/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $BASE_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start 3>&- || { cat "$BASE_DIR/server.log" >&2; exit 1; }
  echo "$PORT" >"$BASE_DIR/port"
fi

ensure_database "$PORT"
echo "postgresql://postgres@127.0.0.1:$PORT/$DB_NAME" >&3
