"""API tests: clients authenticate the way integrations do, with real bearer tokens (`api`, `anon` and
`bearer_client` are shared: tests/conftest.py, tests/factories.py)."""

ALL_ATTRIBUTE_PERMS = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
ALL_CUSTOMER_PERMS = ("view_customer", "add_customer", "change_customer", "delete_customer")
