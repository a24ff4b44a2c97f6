"""Signal receivers of the attributes app (connected in AttributesConfig.ready)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from customers.models import Customer

from . import history  # noqa: F401 (connects the history receiver)
from .models import Attribute, UsageStaleName


@receiver(post_delete, sender=Customer)
def _drop_history_with_customer(sender, instance, **kwargs):
    """History outlives an attribute's deletion; deleting the customer is the only thing that removes it.

    The usage refresh finds changed names in history, so the names this customer had are marked stale first.
    """
    records = Attribute.history.filter(customer_id=instance.pk)
    names = set(records.order_by().values_list("attribute_name", flat=True).distinct())
    UsageStaleName.objects.bulk_create(
        [UsageStaleName(name=name) for name in names],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["created"],
    )
    records.delete()
