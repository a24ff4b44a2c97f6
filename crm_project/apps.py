from django.apps import AppConfig
from django.core.signals import request_started
from django.db.models.signals import post_migrate


class CrmProjectConfig(AppConfig):
    name = "crm_project"
    verbose_name = "CRM project"

    def ready(self):
        from .dbhealth import drop_dead_connections
        from .roles import create_missing_role_groups

        # After Django's own close_old_connections (connected when django.db is imported): see dbhealth.py.
        request_started.connect(drop_dead_connections, dispatch_uid="crm_project.dbhealth.drop_dead_connections")

        post_migrate.connect(create_missing_role_groups, dispatch_uid="crm_project.roles.create_missing_role_groups")
