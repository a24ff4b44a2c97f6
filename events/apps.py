from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Change events"

    def ready(self):
        from . import services  # noqa: F401 (registers the periodic prune job)
