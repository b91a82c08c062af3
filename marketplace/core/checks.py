"""Deployment checks of our own, run by ``manage.py check --deploy``."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def production_services(app_configs, **kwargs):
    warnings = []
    if not settings.REDIS_URL:
        warnings.append(
            Warning(
                "REDIS_URL is not set: login rate limits are counted per process and Celery "
                "uses a local file broker.",
                hint="Set REDIS_URL to a Redis server shared by every web and worker process.",
                id="tradepost.W001",
            )
        )
    if not settings.DB_IS_POSTGRES:
        warnings.append(
            Warning(
                "The database is not PostgreSQL: stock locking and full-text search are built "
                "for PostgreSQL in production.",
                hint="Set DATABASE_URL=postgres://...",
                id="tradepost.W002",
            )
        )
    return warnings
