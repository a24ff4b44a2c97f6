"""Template access to what other apps registered in `customers.extensions` (tabs, modal shells)."""

from django import template

from .. import extensions

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_tabs(context) -> list[dict]:
    """The registered tabs the user may see, each with its URL for `customer`."""
    customer = context["customer"]
    return [
        {"name": tab.name, "label": tab.label, "url": tab.url(customer)}
        for tab in extensions.visible_tabs(context["user"])
    ]


@register.simple_tag
def customer_page_modals() -> list[str]:
    """The modal shells the registered tabs load their forms into, for the customer page."""
    return [tab.modal_template for tab in extensions.tabs() if tab.modal_template]
