from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmProjectConfig(AppConfig):
    name = "crm_project"
    verbose_name = "CRM project"

    def ready(self):
        from .roles import create_missing_role_groups

        post_migrate.connect(create_missing_role_groups, dispatch_uid="crm_project.roles.create_missing_role_groups")
