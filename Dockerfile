# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm AS frontend
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=clinic.settings.production
WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt
COPY . .
COPY --from=frontend /build/node_modules ./node_modules
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && useradd --system --home /app clinic && chown -R clinic /app
USER clinic
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi"]
