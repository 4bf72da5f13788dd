"""The Celery application: eager by default, a real broker with CELERY_BROKER_URL."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "railsite.settings")

app = Celery("railsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
