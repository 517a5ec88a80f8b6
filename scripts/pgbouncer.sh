#!/usr/bin/env bash
# A private PgBouncer in transaction pooling mode in front of $DATABASE_URL's server, for the
# test suite (docs/decisions/0033-replica-and-pgbouncer.md). Sourced by scripts/test.sh after
# scripts/setup.sh:   source scripts/pgbouncer.sh && start_private_pgbouncer
#
# It listens on a free port of 127.0.0.1 and passes any database through to the server, as
# DATABASE_URL's user without a password (the test database is created and dropped through it
# too); it stops when the sourcing shell exits. Exports:
#   DATABASE_URL          the same database, through PgBouncer
#   DATABASE_DIRECT_URL   the server itself, for what must see it (tests/test_pgbouncer.py)
#   DATABASE_POOLER=pgbouncer   turns server-side cursors off (clinic/settings/base.py)
#   PGBOUNCER_PORT        its port; its admin console is the database "pgbouncer" there

# Server connections idle longer than this are closed, so the suite's DROP DATABASE (which
# waits up to 5 s for other sessions to leave) never finds the pool still holding one.
PGBOUNCER_SERVER_IDLE_SECONDS="${PGBOUNCER_SERVER_IDLE_SECONDS:-1}"
PGBOUNCER_POOL_SIZE="${PGBOUNCER_POOL_SIZE:-20}"

start_private_pgbouncer() {
  local bin folder port host server_port user database as_user=()
  bin="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
  [ -x "$bin" ] || { ensure_pgbouncer && bin="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"; }
  read -r host server_port user database < <(url_parts "$DATABASE_URL")
  port="$(free_tcp_port)"
  folder="$(mktemp -d /tmp/clinic-pgbouncer.XXXXXX)"
  chmod 755 "$folder"
  cat >"$folder/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$server_port user=$user

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
pidfile = $folder/pgbouncer.pid
logfile = $folder/pgbouncer.log
auth_type = any
admin_users = $user
pool_mode = transaction
default_pool_size = $PGBOUNCER_POOL_SIZE
max_client_conn = 1000
server_idle_timeout = $PGBOUNCER_SERVER_IDLE_SECONDS
ignore_startup_parameters = extra_float_digits
EOF
  # PgBouncer refuses to run as root; it drops to user postgres itself.
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$folder"
    as_user=(-u postgres)
  fi
  say "PgBouncer (transaction pooling) on 127.0.0.1:$port in front of $host:$server_port"
  "$bin" -q "${as_user[@]}" "$folder/pgbouncer.ini" &
  PGBOUNCER_PID=$!
  PGBOUNCER_FOLDER="$folder"
  trap 'kill "$PGBOUNCER_PID" 2>/dev/null || true; rm -rf "$PGBOUNCER_FOLDER"' EXIT
  for _ in $(seq 100); do port_open 127.0.0.1 "$port" && break; sleep 0.1; done
  port_open 127.0.0.1 "$port" || die "PgBouncer did not start; see $folder/pgbouncer.log"
  export DATABASE_DIRECT_URL="$DATABASE_URL"
  export DATABASE_URL="postgres://$user@127.0.0.1:$port/$database"
  export DATABASE_POOLER=pgbouncer PGBOUNCER_PORT="$port"
}

url_parts() {
  "$VENV/bin/python" - "$1" <<'EOF'
import sys
from urllib.parse import urlsplit

url = urlsplit(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or 5432, url.username or "postgres", url.path.lstrip("/"))
EOF
}

free_tcp_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
