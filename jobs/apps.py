from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Background jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Job kinds register from their apps' ready(); JOBS_EXTRA_MODULES names more modules to import for theirs.
        from importlib import import_module

        from django.conf import settings

        for module in settings.JOBS_EXTRA_MODULES:
            import_module(module)
