#!/usr/bin/env bash
# Set up and run the whole suite: ruff, import-linter, mypy, migration check, deploy check, pytest (real
# PostgreSQL, Redis, Celery worker and Chromium). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh --browser
ensure_rabbitmq  # the second broker of the delivery tests (tests/brokers.py)

# Tests use their own Redis database number so a clinic running beside them is not disturbed.
redis_db_1() { if [[ "$1" =~ /[0-9]+$ ]]; then echo "${1%/*}/1"; else echo "${1%/}/1"; fi; }
export REDIS_URL="${TEST_REDIS_URL:-$(redis_db_1 "$REDIS_URL")}"
export DJANGO_SETTINGS_MODULE=clinic.settings.test

say "ruff"
ruff check .
ruff format --check .
say "the apps stand in floors (import-linter)"
lint-imports
say "types (mypy with the Django and DRF stubs)"
mypy
say "migrations are up to date"
python manage.py makemigrations --check --dry-run
say "production settings pass the deploy checks"
DJANGO_SETTINGS_MODULE=clinic.settings.production \
  DJANGO_SECRET_KEY="deploy-check-$(head -c 48 /dev/urandom | base64 | tr -d '/+=')" \
  DJANGO_ALLOWED_HOSTS=clinic.example.org \
  python manage.py check --deploy --fail-level WARNING
# The suite's database work goes through a private PgBouncer in transaction pooling mode, as in
# production (scripts/pgbouncer.sh); TEST_PGBOUNCER=0 talks to the server directly.
if [ "${TEST_PGBOUNCER:-1}" != 0 ]; then
  source scripts/pgbouncer.sh
  start_private_pgbouncer
fi
# With arguments, pytest runs just what they name, in one process. Without, the whole suite runs
# over the machine's cores (pytest-xdist, one test database per worker; a worker takes whole
# modules, those that start processes first: see conftest.py). Tests with a Celery worker run
# beside the others on queues, ports and a RabbitMQ vhost of their own
# (docs/decisions/0046-tests-over-both-cores.md). Finding no tests fails the run (exit code 5).
if [ "$#" -gt 0 ]; then
  say "pytest $*"
  python -m pytest --durations=25 "$@"
  exit
fi
say "pytest over ${TEST_WORKERS:-2} workers"
python -m pytest -n "${TEST_WORKERS:-2}" --dist loadscope --no-loadscope-reorder --durations=25
