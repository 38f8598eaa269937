#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers on 127.0.0.1 for the tests (not system services).
#
#   eval "$(tests/servers.sh start DIR)"   # starts both, prints the TEST_POSTGRES_URL / TEST_REDIS_URL exports
#   tests/servers.sh stop DIR              # stops what `start DIR` started (by pidfile)
#
# PostgreSQL runs from a cluster made by initdb --auth=trust in DIR/pg (as the postgres user when run as
# root), Redis with no persistence. Each listens on a free port. A server whose program is missing is left
# out (its export is not printed) and the tests that need it skip, or fail under CI=true.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_bin() {
  local d
  if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/pg_ctl" ]]; then
    pg_config --bindir
    return
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/pg_ctl" ]] && { echo "$d"; return; }
  done
  command -v pg_ctl >/dev/null 2>&1 && dirname "$(command -v pg_ctl)"
}

as_pg() {  # run a PostgreSQL program as the postgres user when we are root (initdb refuses root)
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local bin port
  bin=$(pg_bin || true)
  if [[ -n "$bin" ]]; then
    port=$(free_port)
    mkdir -p "$dir/pg"
    if [[ $(id -u) -eq 0 ]]; then  # the postgres user must reach its folder (mktemp -d makes 0700)
      chmod 755 "$dir"
      chown postgres "$dir/pg"
      chmod 700 "$dir/pg"
    fi
    as_pg "$bin/initdb" -D "$dir/pg/data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log" 2>&1
    as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/pg -c fsync=off" -w start >/dev/null
    echo "export TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  else
    echo "postgresql not found: TEST_POSTGRES_URL not set" >&2
  fi
  if command -v redis-server >/dev/null 2>&1; then
    port=$(free_port)
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$dir/redis.pid" \
      --save '' --appendonly no --logfile "$dir/redis.log" --dir "$dir"
    for _ in $(seq 50); do [[ -s "$dir/redis.pid" ]] && break; sleep 0.1; done
    echo "export TEST_REDIS_URL=redis://127.0.0.1:$port/0"
  else
    echo "redis-server not found: TEST_REDIS_URL not set" >&2
  fi
}

stop() {
  local bin
  if [[ -f "$dir/pg/data/postmaster.pid" ]]; then
    bin=$(pg_bin)
    as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 ||
      kill "$(head -1 "$dir/pg/data/postmaster.pid")" 2>/dev/null || true
  fi
  if [[ -f "$dir/redis.pid" ]]; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    rm -f "$dir/redis.pid"
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
