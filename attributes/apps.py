from django.apps import AppConfig


class AttributesConfig(AppConfig):
    name = "attributes"
    verbose_name = "Customer attributes"

    def ready(self):
        from customers import extensions as customers

        from . import checks, extensions, services, signals  # noqa: F401 (connected / registered on import)

        customers.register_tab(extensions.ATTRIBUTES_TAB)
        customers.register_tab(extensions.HISTORY_TAB)
        customers.register_list_filter(extensions.ATTRIBUTE_FILTER)
        customers.register_list_template(customers.LIST_ACTIONS, extensions.LIST_ACTIONS_TEMPLATE)
        customers.register_list_template(customers.LIST_TOOLS, extensions.LIST_TOOLS_TEMPLATE)
