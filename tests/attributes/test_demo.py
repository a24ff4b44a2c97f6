"""Demo attributes: realistic values from the specification's examples, valid under the same rules."""

import io

import pytest
from django.core.management import call_command

from attributes.demo import demo_attributes
from attributes.models import Attribute
from attributes.services import normalize_and_validate
from customers.models import Customer

pytestmark = pytest.mark.django_db  # the rules include the attribute registry, which lives in the database

SPEC_EXAMPLE_NAMES = {"external_crm_id", "billing_method", "support_tier", "gdpr_consent_date", "vlan_id"}


def test_demo_attributes_are_the_same_for_the_same_customer():
    assert demo_attributes(7) == demo_attributes(7)


@pytest.mark.parametrize("customer_id", range(1, 41))
def test_demo_attributes_follow_the_rules(customer_id):
    attributes = demo_attributes(customer_id)

    assert 3 <= len(attributes) <= 8
    for name, value in attributes.items():
        assert normalize_and_validate(name=name, value=value) == (name, value)


def test_demo_attributes_use_the_specifications_example_names():
    names = set().union(*(demo_attributes(customer_id) for customer_id in range(1, 101)))

    assert names >= SPEC_EXAMPLE_NAMES


def test_seed_demo_gives_each_demo_customer_its_attributes_once():
    call_command("seed_demo", "--customers", "3", stdout=io.StringIO())
    first = list(Attribute.objects.order_by("attribute_id").values_list("attribute_id", "attribute_value"))

    call_command("seed_demo", "--customers", "3", stdout=io.StringIO())

    for customer in Customer.objects.filter(customer_id__lte=3):
        stored = dict(customer.attributes.values_list("attribute_name", "attribute_value"))
        assert stored == demo_attributes(customer.customer_id)
    assert list(Attribute.objects.order_by("attribute_id").values_list("attribute_id", "attribute_value")) == first
