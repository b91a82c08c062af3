from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "marketplace.core"
    label = "core"
    verbose_name = "Tradepost core"

    def ready(self) -> None:
        from django.conf import settings

        from marketplace.core import checks  # noqa: F401  (registers the deploy checks)

        # Local state (SQLite file, file broker, uploads, mail) lives under VAR_DIR.
        for sub in settings.VAR_SUBDIRS:
            (settings.VAR_DIR / sub).mkdir(parents=True, exist_ok=True)
