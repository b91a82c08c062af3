from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "marketplace.core"
    label = "core"
    verbose_name = "Tradepost core"

    def ready(self) -> None:
        from marketplace.core import checks  # noqa: F401  (registers the deploy checks)
