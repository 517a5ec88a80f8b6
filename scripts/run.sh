#!/usr/bin/env bash
# Set up and run the clinic: web, a Celery worker and Celery beat, with the demo clinic loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-clinic.settings.local}"
export CLINIC_HOST="${CLINIC_HOST:-127.0.0.1}" CLINIC_PORT="${CLINIC_PORT:-8000}"
DEMO_PASSWORD="${DEMO_PASSWORD:-clinic-demo-2026}"

say "migrating the database"
python manage.py migrate --noinput >/dev/null
say "loading the demo clinic"
python manage.py seed_demo --password "$DEMO_PASSWORD"

cat <<MSG

  The clinic is at http://$CLINIC_HOST:$CLINIC_PORT/   (API docs: /api/docs/, health: /healthz)
  Demo logins: admin, frontdesk, physician, patient, each with password $DEMO_PASSWORD
  Staff (admin, frontdesk, physician) then give a code: their app keys are printed above, or
  get the current code with: .venv/bin/python manage.py demo_totp frontdesk
  Web, a Celery worker and Celery beat run below; press Ctrl-C to stop them all.

MSG
exec honcho start -f Procfile
