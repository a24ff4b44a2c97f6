"""Signal receivers of the attributes app (connected in AttributesConfig.ready)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from customers.models import Customer

from . import history  # noqa: F401 (connects the history receiver)
from .models import Attribute


@receiver(post_delete, sender=Customer)
def _drop_history_with_customer(sender, instance, **kwargs):
    """History outlives an attribute's deletion; deleting the customer is the only thing that removes it."""
    Attribute.history.filter(customer_id=instance.pk).delete()
