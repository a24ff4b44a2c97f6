"""The Rename page: preview (dry run), then apply; update, delete and registry permissions required."""

import re

import pytest
from django.contrib.messages import get_messages

from attributes import selectors
from attributes.models import Attribute, AttributeDefinition, NameReservation
from attributes.services import usage_refresh
from jobs import runner
from jobs.models import Job

from .conftest import DELETE, REGISTRY, UPDATE, VIEW, snapshot, values

PAGE = "/attributes/rename/"
RENAMER = (VIEW, UPDATE, DELETE, REGISTRY)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_page_offers_names_in_use_and_prefills_from_query(client, login, dataset):
    usage_refresh(full=True)  # the suggestions come from the usage summary, as workers keep it
    login(*RENAMER)

    response = client.get(PAGE, {"old_name": "billingmethod", "new_name": "billing_method"})

    assert response.status_code == 200
    html = response.content.decode()
    assert '<datalist id="attribute-names">' in html
    assert '<option value="billing_method">3 customers</option>' in html
    assert 'value="billingmethod"' in html and 'value="billing_method"' in html


def test_page_suggests_only_the_most_used_names(client, login, dataset, monkeypatch):
    monkeypatch.setattr(selectors, "NAME_SUGGESTIONS", 2)
    usage_refresh(full=True)
    login(*RENAMER)

    html = client.get(PAGE).content.decode()

    assert re.findall(r'<option value="([^"]+)">', html) == ["billing_method", "tier"]  # 3 and 2 customers, by name


def test_preview_shows_counts_and_writes_nothing(client, login, dataset):
    login(*RENAMER)
    before = snapshot()

    response = client.post(PAGE, {"old_name": "billing_method", "new_name": "payment_method", "preview": "1"})

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.renamed, report.merged, report.written) == (3, 0, False)
    assert 'name="apply"' in response.content.decode()
    assert snapshot() == before


def test_apply_starts_the_job_and_redirects_to_its_page(client, login, dataset):
    user = login(*RENAMER)

    response = client.post(PAGE, {"old_name": "billingmethod", "new_name": "billing_method", "apply": "1"})

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert texts(response) == ["Renaming billingmethod to billing_method across customers has started."]
    assert (job.kind, job.status, job.created_by) == ("attributes.rename", "queued", user)
    assert values("billingmethod") == {dataset.c1.pk: "invoice"}  # nothing yet: the worker renames

    [done] = runner.run_queued()

    assert (done.status, done.result["renamed"], done.result["merged"]) == ("succeeded", 0, 1)
    assert values("billingmethod") == {}
    merged = Attribute.history.get(operation="merge")
    assert (merged.channel, merged.history_user) == ("ui", user)


def test_preview_lists_conflicts_and_offers_no_apply(client, login, dataset):
    login(*RENAMER, "view_customer")  # customer names only with the customer view permission

    response = client.post(PAGE, {"old_name": "billing_methods", "new_name": "billing_method", "preview": "1"})

    html = response.content.decode()
    assert response.context["report"].conflicts == [(dataset.c2.pk, "card", "invoice")]
    assert "Usage 2" in html and "card" in html and "invoice" in html
    assert 'name="apply"' not in html


def test_apply_with_conflict_is_refused_by_the_job_and_changes_nothing(client, login, dataset):
    login(*RENAMER)
    before, history_before = snapshot(), Attribute.history.count()

    response = client.post(PAGE, {"old_name": "billing_methods", "new_name": "billing_method", "apply": "1"})
    [job] = runner.run_queued()

    assert response.status_code == 302
    assert job.status == "failed"
    assert job.error == "Nothing was renamed: 1 customer(s) have both names with different values."
    assert job.result["conflicts"] == [{"customer_id": dataset.c2.pk, "old_value": "card", "new_value": "invoice"}]
    assert snapshot() == before and Attribute.history.count() == history_before
    assert not NameReservation.objects.exists()


def test_apply_with_prefer_new_merges(client, login, dataset):
    login(*RENAMER)

    response = client.post(
        PAGE, {"old_name": "billing_methods", "new_name": "billing_method", "prefer": "new", "apply": "1"}
    )
    runner.run_queued()

    assert response.status_code == 302
    assert values("billing_methods") == {}
    assert values("billing_method")[dataset.c2.pk] == "invoice"


def test_preview_warns_about_dependent_systems(client, login, dataset):
    AttributeDefinition.objects.filter(name="tier").update(dependent_systems="billing, RADIUS")
    login(*RENAMER)

    response = client.post(PAGE, {"old_name": "tier", "new_name": "service_tier", "preview": "1"})

    assert "billing, RADIUS depend on" in response.content.decode()


def test_invalid_name_is_a_form_error(client, login, dataset):
    login(*RENAMER)
    before = snapshot()

    response = client.post(PAGE, {"old_name": "tier", "new_name": "Service Tier", "apply": "1"})

    assert response.status_code == 200
    assert "not a valid attribute name" in str(response.context["form"].errors["new_name"])
    assert snapshot() == before


def test_page_redirects_anonymous_to_login(client, db):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "perms",
    [(VIEW,), (VIEW, UPDATE, DELETE), (VIEW, UPDATE, REGISTRY), (VIEW, DELETE, REGISTRY)],
    ids=["view-only", "no-registry", "no-delete", "no-update"],
)
def test_page_requires_update_delete_and_registry_permissions(client, login, dataset, perms):
    login(*perms)
    before = snapshot()

    assert client.get(PAGE).status_code == 403
    post = client.post(PAGE, {"old_name": "tier", "new_name": "service_tier", "apply": "1"})
    assert post.status_code == 403
    assert snapshot() == before


def test_fields_render_through_the_bootstrap_field_template_with_linked_errors(client, login, dataset):
    """`{{ field.as_field_group }}` (crm_project.forms.BootstrapFormRenderer), not hand-written inputs."""
    login(*RENAMER)

    response = client.post(PAGE, {"old_name": "a b", "new_name": "", "preview": "1"})

    html = response.content.decode()
    assert '<label class="form-label" for="id_old_name">Current name</label>' in html  # no "required" mark
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_new_name_helptext id_new_name_error"' in html
    assert '<div id="id_new_name_error"><div class="invalid-feedback d-block" role="alert">' in html
    assert 'autocapitalize="none"' in html and 'list="attribute-names"' in html
    assert '<legend class="form-label fs-6">When a customer has both names with different values</legend>' in html
    assert 'class="form-check-input" id="id_prefer_0" checked' in html
