#!/usr/bin/env bash
# Set up and run the whole suite: ruff, import-linter, mypy, migration check, deploy check, pytest (real
# PostgreSQL, Redis, Celery worker and Chromium). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh --browser

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
say "pytest"
python -m pytest "$@"
