from django.apps import AppConfig


class AttributesConfig(AppConfig):
    name = "attributes"
    verbose_name = "Customer attributes"

    def ready(self):
        from . import signals  # noqa: F401
