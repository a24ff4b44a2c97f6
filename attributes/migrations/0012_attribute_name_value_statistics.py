"""PostgreSQL statistics on the (name, value) pairs of attributes.

Without them the planner multiplies the selectivity of `attribute_name = 'billing_method'` by that of
`attribute_value = 'monthly'` as if the two were independent, and at 10M rows estimated 64,000 matches where there
were 541,000: it then hashed every match and sorted them for a page of the filtered customer list (395 ms) instead
of walking the customers in order and probing the index (61 ms). The most-common-values list of the pairs gives the
real figure. SQLite has no such statistics; its planner needs none here.
"""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS attribute_name_value_stats (mcv) "
    "ON attribute_name, attribute_value FROM attributes_attribute"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute("ANALYZE attributes_attribute")  # samples the table: well under a second at 10M rows


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS attribute_name_value_stats")


class Migration(migrations.Migration):
    dependencies = [("attributes", "0011_name_usage")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
