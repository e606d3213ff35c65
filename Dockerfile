# The portal's image: gunicorn for web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 okasio

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Build-time values only: static files and catalogues need settings to load.
RUN SECRET_KEY=build SUBJECT_HASH_KEY=build python manage.py collectstatic --no-input -v 0 \
    && SECRET_KEY=build SUBJECT_HASH_KEY=build python manage.py compilemessages -v 0

USER okasio
EXPOSE 8000
CMD ["gunicorn", "okasio_privacy.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
