from django.apps import AppConfig


class CustomsConfig(AppConfig):
    name = "customs"
    verbose_name = "Customs"

    def ready(self) -> None:
        from customs import checks  # noqa: F401  (registers the deploy checks)
