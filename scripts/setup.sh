#!/usr/bin/env bash
# Set up everything the clinic needs on this machine. Sourced by scripts/run.sh and
# scripts/test.sh:   source scripts/setup.sh [--browser]
#
# - a virtualenv in .venv with the pinned Python packages,
# - the front-end packages from npm (node_modules/),
# - PostgreSQL: $DATABASE_URL if set; else the server on 127.0.0.1:5432; else a
#   project-local cluster in .data/postgres on port 54329 (the machine's PostgreSQL
#   binaries, installed with apt-get when missing and allowed),
# - Redis: $REDIS_URL if set; else 127.0.0.1:6379; else a local redis-server on 63799,
# - with --browser, Chromium for the browser tests (Debian's package).
# - ensure_rabbitmq (scripts/test.sh calls it): RabbitMQ, the second broker the delivery
#   tests run on: $RABBITMQ_URL if set; else 127.0.0.1:5672; else a local rabbitmq-server
#   node in .data/rabbitmq on 56729 (Debian's package, installed with apt-get when missing
#   and allowed); if none can be had, RABBITMQ_UNAVAILABLE says why and those tests skip.
# It exports DATABASE_URL and REDIS_URL for what runs next.
#
# Knobs: CLINIC_DATA_DIR (default .data), PG_DEFAULT_PORT / REDIS_DEFAULT_PORT (the
# machine's servers looked for first), LOCAL_PG_PORT / LOCAL_REDIS_PORT (the fallbacks).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${CLINIC_DATA_DIR:-$ROOT/.data}"
VENV="$ROOT/.venv"
PG_DEFAULT_PORT="${PG_DEFAULT_PORT:-5432}"
REDIS_DEFAULT_PORT="${REDIS_DEFAULT_PORT:-6379}"
LOCAL_PG_PORT="${LOCAL_PG_PORT:-54329}"
LOCAL_REDIS_PORT="${LOCAL_REDIS_PORT:-63799}"
RABBITMQ_DEFAULT_PORT="${RABBITMQ_DEFAULT_PORT:-5672}"
LOCAL_RABBITMQ_PORT="${LOCAL_RABBITMQ_PORT:-56729}"
mkdir -p "$DATA"

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=""
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_install() {
  can_apt || return 1
  if [ -z "$APT_UPDATED" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && APT_UPDATED=1
  fi
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

file_hash() { cat "$@" | sha256sum | cut -c1-16; }

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  die "Python 3.11 or newer is needed: install python3 (3.11+) with its venv module"
}

ensure_virtualenv() {
  local stamp
  stamp="$VENV/.installed-$(file_hash "$ROOT"/requirements*.txt "$ROOT/constraints.txt")"
  [ -f "$stamp" ] && return
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtualenv in .venv"
    "$(find_python)" -m venv "$VENV" || die "could not create .venv: install the python3-venv package"
  fi
  say "installing the pinned Python packages"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$ROOT/requirements-dev.txt" -c "$ROOT/constraints.txt"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
}

ensure_node_modules() {
  local stamp="$ROOT/node_modules/.installed-$(file_hash "$ROOT/package-lock.json")"
  [ -f "$stamp" ] && return
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm ||
    die "npm is needed for the front-end packages: install Node.js 18+ with npm"
  say "installing the front-end packages (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

postgres_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$dir" ]; then
    apt_install postgresql postgresql-contrib ||
      die "no PostgreSQL server found: install PostgreSQL 15+ (Debian: apt-get install postgresql) or set DATABASE_URL"
    dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  echo "$dir"
}

# PostgreSQL refuses to run as root, so as root the local cluster belongs to 'postgres'.
as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_local_postgres() {
  local bin pgdata="$DATA/postgres" sockets="$DATA/postgres-run"
  bin="$(postgres_bin)"
  mkdir -p "$pgdata" "$sockets"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$pgdata" "$sockets"
    runuser -u postgres -- test -w "$pgdata" ||
      die "user postgres cannot reach $pgdata (a parent folder is private): set CLINIC_DATA_DIR to a folder it can reach, or set DATABASE_URL"
  fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    say "creating a project-local PostgreSQL cluster in .data/postgres"
    as_pg_owner "$bin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_pg_owner "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    say "starting the local PostgreSQL on 127.0.0.1:$LOCAL_PG_PORT"
    as_pg_owner "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 30 start \
      -o "-p $LOCAL_PG_PORT -k $sockets -c listen_addresses=127.0.0.1" >/dev/null ||
      die "the local PostgreSQL did not start; see $pgdata/server.log"
  fi
}

ensure_postgres() {
  if [ -z "${DATABASE_URL:-}" ]; then
    if port_open 127.0.0.1 "$PG_DEFAULT_PORT"; then
      export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_DEFAULT_PORT/clinic"
    else
      start_local_postgres
      export DATABASE_URL="postgres://postgres@127.0.0.1:$LOCAL_PG_PORT/clinic"
    fi
  fi
  "$VENV/bin/python" "$ROOT/scripts/check_services.py" database "$DATABASE_URL"
}

start_local_redis() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server ||
    die "no Redis found: install redis-server 6+ or set REDIS_URL"
  mkdir -p "$DATA/redis"
  say "starting a local redis-server on 127.0.0.1:$LOCAL_REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$LOCAL_REDIS_PORT" --save "" \
    --appendonly no --dir "$DATA/redis" --pidfile "$DATA/redis/redis.pid" \
    --logfile "$DATA/redis/redis.log" >/dev/null
  for _ in $(seq 50); do port_open 127.0.0.1 "$LOCAL_REDIS_PORT" && return; sleep 0.1; done
  die "the local redis-server did not start; see $DATA/redis/redis.log"
}

ensure_redis() {
  if [ -z "${REDIS_URL:-}" ]; then
    if port_open 127.0.0.1 "$REDIS_DEFAULT_PORT"; then
      export REDIS_URL="redis://127.0.0.1:$REDIS_DEFAULT_PORT/0"
    else
      port_open 127.0.0.1 "$LOCAL_REDIS_PORT" || start_local_redis
      export REDIS_URL="redis://127.0.0.1:$LOCAL_REDIS_PORT/0"
    fi
  fi
  "$VENV/bin/python" "$ROOT/scripts/check_services.py" redis "$REDIS_URL"
}

# A node of its own (name, ports, data, cookie), so a machine's RabbitMQ service is never touched.
start_local_rabbitmq() {
  local sbin=/usr/lib/rabbitmq/bin dir="$DATA/rabbitmq"
  [ -x "$sbin/rabbitmq-server" ] || apt_install rabbitmq-server || return 1
  mkdir -p "$dir"
  printf 'listeners.tcp.local = 127.0.0.1:%s\n' "$LOCAL_RABBITMQ_PORT" >"$dir/rabbitmq.conf"
  echo '[].' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  say "starting a local rabbitmq-server on 127.0.0.1:$LOCAL_RABBITMQ_PORT"
  (
    export HOME="$dir" RABBITMQ_NODENAME="clinic-$LOCAL_RABBITMQ_PORT@localhost" \
      RABBITMQ_NODE_PORT="$LOCAL_RABBITMQ_PORT" RABBITMQ_DIST_PORT="$((LOCAL_RABBITMQ_PORT + 1))" \
      RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_MNESIA_BASE="$dir/mnesia" \
      RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    "$sbin/rabbitmq-server" -detached && "$sbin/rabbitmqctl" wait "$dir/rabbitmq.pid" --timeout 120
  ) >"$dir/start.log" 2>&1 || { say "the local rabbitmq-server did not start; see $dir/start.log"; return 1; }
}

ensure_rabbitmq() {
  [ -n "${RABBITMQ_URL:-}" ] && return
  if port_open 127.0.0.1 "$RABBITMQ_DEFAULT_PORT"; then
    export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$RABBITMQ_DEFAULT_PORT//"
  elif port_open 127.0.0.1 "$LOCAL_RABBITMQ_PORT" || start_local_rabbitmq; then
    export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$LOCAL_RABBITMQ_PORT//"
  else
    export RABBITMQ_UNAVAILABLE="no RabbitMQ on 127.0.0.1:$RABBITMQ_DEFAULT_PORT, and none could be installed and started here (apt-get needs root)"
    say "warning: $RABBITMQ_UNAVAILABLE: the RabbitMQ runs of the delivery tests will skip"
  fi
}

ensure_chromium() {
  export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$CHROMIUM_PATH" ] && return
  apt_install chromium ||
    die "Chromium is needed for the browser tests: install Debian's chromium package or set CHROMIUM_PATH"
}

# The test suite talks to PostgreSQL through PgBouncer (scripts/pgbouncer.sh); Debian's package.
ensure_pgbouncer() {
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] && return
  apt_install pgbouncer ||
    die "PgBouncer is needed for the test suite: install Debian's pgbouncer package (or TEST_PGBOUNCER=0)"
}

# Pango (with HarfBuzz's subsetter and a font): what WeasyPrint lays the procedure note's PDF
# out with (docs/decisions/0041-procedure-notes-and-consent.md).
ensure_pango() {
  compgen -G "/usr/lib/*/libpangoft2-1.0.so.0" >/dev/null &&
    compgen -G "/usr/lib/*/libharfbuzz-subset.so.0" >/dev/null &&
    [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && return
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core ||
    die "Pango is needed for the procedure note's PDF: install Debian's libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0 and fonts-dejavu-core"
}

# GNU gettext: makemessages and the test that the committed .mo matches its .po (msgfmt).
ensure_gettext() {
  command -v msgfmt >/dev/null 2>&1 && return
  apt_install gettext ||
    die "GNU gettext is needed for the translations: install Debian's gettext package"
}

ensure_virtualenv
ensure_node_modules
ensure_gettext
ensure_pango
ensure_postgres
ensure_redis
if [ "${1:-}" = "--browser" ]; then ensure_chromium; fi
export PATH="$VENV/bin:$PATH"
