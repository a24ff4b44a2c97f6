"""The Attribute admin's action: rename or merge the selected names across all customers."""

from django.contrib.messages import get_messages

from attributes.models import Attribute
from jobs import runner
from jobs.models import Job
from tests.factories import make_user

from .conftest import DELETE, UPDATE, VIEW, values

CHANGELIST = "/admin/attributes/attribute/"
ACTION = "rename_across_customers"


def pks(*names: str) -> list[str]:
    return [str(pk) for pk in Attribute.objects.filter(attribute_name__in=names).values_list("pk", flat=True)]


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_action_asks_for_the_new_name_then_renames(client, admin_user, dataset):
    client.force_login(admin_user)
    selected = pks("tier")

    page = client.post(CHANGELIST, {"action": ACTION, "_selected_action": selected, "index": "0"})

    assert page.status_code == 200
    assert page.templates[0].name == "admin/attributes/attribute/rename_across_customers.html"
    html = page.content.decode()
    assert "<code>tier</code> (2 customers)" in html
    assert values("tier")  # nothing renamed yet

    done = client.post(
        CHANGELIST, {"action": ACTION, "_selected_action": selected, "new_name": "service_tier", "apply": "yes"}
    )

    job = Job.objects.get()
    assert done.status_code == 302
    assert texts(done) == [
        f'Renaming tier to service_tier across customers has started: <a href="/jobs/{job.pk}/">follow the job</a>.'
    ]
    assert values("tier")  # the job renames
    runner.run_queued()
    assert values("tier") == {}
    assert values("service_tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}
    assert set(Attribute.history.filter(operation="rename_all").values_list("channel", flat=True)) == {"admin"}


def test_action_starts_a_job_per_selected_name_one_at_a_time_per_name(client, admin_user, dataset):
    client.force_login(admin_user)
    # The target name is selected too (all three spellings); it is skipped, not renamed onto itself.
    selected = pks("billing_method", "billingmethod", "billing_methods")

    done = client.post(
        CHANGELIST, {"action": ACTION, "_selected_action": selected, "new_name": "billing_method", "apply": "yes"}
    )

    assert done.status_code == 302
    # One job per selected name; one rename at a time per name, so the second waits for the first to finish.
    started, refused = texts(done)
    assert started.startswith("Renaming billing_methods to billing_method across customers has started")
    assert refused == (
        "billingmethod was not renamed: “billing_method” is being renamed across customers right now; "
        "try again when the rename has finished."
    )
    [job] = runner.run_queued()
    assert job.status == "failed"
    assert job.result["conflicts"] == [{"customer_id": dataset.c2.pk, "old_value": "card", "new_value": "invoice"}]
    assert values("billing_methods") == {dataset.c2.pk: "card"}  # refused: unchanged

    again = client.post(
        CHANGELIST,
        {"action": ACTION, "_selected_action": pks("billingmethod"), "new_name": "billing_method", "apply": "yes"},
    )
    [job] = runner.run_queued()

    assert again.status_code == 302
    assert (job.status, job.result["merged"]) == ("succeeded", 1)
    assert values("billingmethod") == {}


def test_action_with_prefer_old_resolves_the_conflict(client, admin_user, dataset):
    client.force_login(admin_user)

    client.post(
        CHANGELIST,
        {
            "action": ACTION,
            "_selected_action": pks("billing_methods"),
            "new_name": "billing_method",
            "prefer": "old",
            "apply": "yes",
        },
    )
    runner.run_queued()

    assert values("billing_methods") == {}
    assert values("billing_method")[dataset.c2.pk] == "card"


def test_action_shows_the_form_again_for_an_invalid_name(client, admin_user, dataset):
    client.force_login(admin_user)

    page = client.post(
        CHANGELIST, {"action": ACTION, "_selected_action": pks("tier"), "new_name": "Service Tier", "apply": "yes"}
    )

    assert page.status_code == 200
    assert "not a valid attribute name" in page.content.decode()
    assert values("tier")


def test_action_not_offered_without_registry_permission(client, dataset):
    client.force_login(make_user(VIEW, UPDATE, DELETE, is_staff=True))

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert ACTION not in response.content.decode()


def test_action_on_all_matching_rows_keeps_the_selection_across_the_intermediate_page(client, admin_user, dataset):
    client.force_login(admin_user)
    url = CHANGELIST + "?attribute_name=legacy_id"  # "select all N matching": the filter is the selection
    common = {"action": ACTION, "_selected_action": pks("legacy_id"), "select_across": "1"}

    page = client.post(url, {**common, "index": "0"})
    assert 'name="select_across" value="1"' in page.content.decode()
    client.post(url, {**common, "new_name": "old_system_id", "apply": "yes"})
    runner.run_queued()

    assert values("old_system_id") == {dataset.c3.pk: "L-1"}
    assert values("tier")  # outside the filter: untouched


def test_action_posted_without_registry_permission_renames_nothing(client, dataset):
    client.force_login(make_user(VIEW, UPDATE, DELETE, is_staff=True))

    client.post(
        CHANGELIST, {"action": ACTION, "_selected_action": pks("tier"), "new_name": "service_tier", "apply": "yes"}
    )

    assert values("service_tier") == {}
    assert values("tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}


def test_action_called_without_registry_permission_is_refused_by_the_service(rf, dataset):
    """Even past the admin's own gate, the rename service checks the registry permission the page checks."""
    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage

    from attributes.admin_rename import rename_across_customers

    request = rf.post(CHANGELIST, {"new_name": "service_tier", "apply": "yes"})
    request.user = make_user(VIEW, UPDATE, DELETE, is_staff=True)
    request.session = {}
    request._messages = FallbackStorage(request)

    rename_across_customers(admin.site._registry[Attribute], request, Attribute.objects.filter(attribute_name="tier"))

    assert [str(m) for m in request._messages] == [
        "tier was not renamed: You need the manage_attribute_registry permission to rename names."
    ]
    assert values("tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}
