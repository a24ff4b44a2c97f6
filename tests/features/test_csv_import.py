"""CSV import in the UI: dry-run preview, "Import now" (starts the import job), rejects with line numbers, limits and
permissions. The job runs in-process here (`jobs.runner.run_queued`); tests/features/test_import_job.py tests it."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.asserts import assertRedirects

from attributes import forms
from attributes.models import Attribute
from attributes.views import csv as views_csv
from jobs import runner
from jobs.models import Job
from tests.factories import make_attribute, make_customer, make_user

from .conftest import CREATE, UPDATE, VIEW

pytestmark = pytest.mark.django_db
URL = "/attributes/import/"


def upload(client, content: str | bytes, name: str = "attributes.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def count(html: str, key: str) -> int:
    return int(re.search(rf'data-count="{key}">(\d+)<', html).group(1))


def token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def snapshot() -> list[tuple]:
    return list(
        Attribute.objects.order_by("pk").values_list(
            "customer_id", "attribute_name", "attribute_value", "last_modified"
        )
    )


@pytest.fixture
def customer():
    customer = make_customer(customer_name="Acme Fiber")
    make_attribute(customer, "support_tier", "gold")
    make_attribute(customer, "region", "north")
    return customer


def test_import_page_shows_the_upload_form(client, importer):
    response = client.get(URL)

    assert response.status_code == 200
    assert b'type="file" name="file"' in response.content
    assert b'enctype="multipart/form-data"' in response.content


@pytest.mark.parametrize("perms", [(VIEW, CREATE), (VIEW, UPDATE), (VIEW,)], ids=["create-only", "update-only", "view"])
def test_import_needs_create_and_update_permission(client, customer, perms):
    client.force_login(make_user("view_customer", *perms))

    get = client.get(URL)
    post = upload(client, f"customer_id,attribute_name,attribute_value\n{customer.pk},support_tier,platinum\n")

    assert get.status_code == 403
    assert post.status_code == 403
    assert Attribute.objects.get(attribute_name="support_tier").attribute_value == "gold"


def test_import_redirects_anonymous_users_to_login(client, db):
    assertRedirects(client.get(URL), f"/accounts/login/?next={URL}", fetch_redirect_response=False)


def test_preview_counts_creates_updates_and_unchanged_and_writes_nothing(client, importer, customer):
    before = snapshot()
    csv_text = (
        "customer_id,attribute_name,attribute_value\n"
        f"{customer.pk},support_tier,platinum\n"
        f"{customer.pk},region,north\n"
        f"{customer.pk},billing_plan,annual\n"
        f"{customer.pk},external_crm_id,SF-1\n"
    )

    response = upload(client, csv_text)
    html = response.content.decode()

    assert response.status_code == 200
    assert (count(html, "created"), count(html, "updated"), count(html, "unchanged"), count(html, "rejected")) == (
        2,
        1,
        1,
        0,
    )
    assert "Import now" in html
    assert snapshot() == before


def test_import_now_starts_a_job_with_the_previewed_file_and_redirects_to_its_page(client, importer, customer):
    csv_text = (
        "customer_id,attribute_name,attribute_value\n"
        f"{customer.pk},support_tier,platinum\n"
        f"{customer.pk},billing_plan,annual\n"
    )
    preview = upload(client, csv_text).content.decode()
    key = token(preview)

    response = client.post(URL, {"token": key})

    job = Job.objects.get()
    assertRedirects(response, f"/jobs/{job.pk}/", fetch_redirect_response=False)
    assert (job.kind, job.status, job.payload, job.created_by) == ("attributes.import", "queued", csv_text, importer)
    assert job.params["filename"] == "attributes.csv"
    assert views_csv.SESSION_PREFIX + key not in client.session  # the job holds the text now
    assert customer.attributes.get(attribute_name="support_tier").attribute_value == "gold"  # not yet run

    [ran] = runner.run_queued()

    assert ran.status == Job.Status.SUCCEEDED
    assert ran.result == {
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "rejected": [],
        "skipped": [],
        "filename": "attributes.csv",
    }
    assert dict(customer.attributes.values_list("attribute_name", "attribute_value")) == {
        "support_tier": "platinum",
        "billing_plan": "annual",
        "region": "north",
    }


def test_preview_keeps_the_upload_in_the_session_under_a_random_key(client, importer, customer):
    csv_text = f"customer_id,attribute_name,attribute_value\n{customer.pk},support_tier,platinum\n"

    first = token(upload(client, csv_text).content.decode())
    second = token(upload(client, csv_text).content.decode())

    assert first != second
    assert client.session[views_csv.SESSION_PREFIX + second]["text"] == csv_text
    assert views_csv.SESSION_PREFIX + first not in client.session  # only the latest upload waits


def test_import_now_with_an_unknown_token_writes_nothing_and_says_so(client, importer, customer):
    response = client.post(URL, {"token": "not-a-real-token"}, follow=True)

    assert "no longer waiting to be imported" in response.content.decode()
    assert customer.attributes.get(attribute_name="support_tier").attribute_value == "gold"


def test_import_now_twice_starts_one_job(client, importer, customer):
    key = token(upload(client, f"customer_id,attribute_name,attribute_value\n{customer.pk},plan,a\n").content.decode())
    client.post(URL, {"token": key})

    again = client.post(URL, {"token": key}, follow=True)

    assert "no longer waiting" in again.content.decode()
    assert Job.objects.count() == 1
    runner.run_queued()
    assert customer.attributes.filter(attribute_name="plan").count() == 1


def test_import_now_after_the_data_changed_fails_the_job_with_the_rejects_and_writes_nothing(
    client, importer, customer
):
    other = make_customer(customer_name="Gone Soon")
    csv_text = (
        "customer_id,attribute_name,attribute_value\n"
        f"{customer.pk},support_tier,platinum\n"
        f"{other.pk},support_tier,basic\n"
    )
    key = token(upload(client, csv_text).content.decode())
    other.delete()
    client.post(URL, {"token": key})

    [job] = runner.run_queued()

    assert (job.status, job.error) == (Job.Status.FAILED, "1 row rejected; nothing imported")
    assert job.result["rejected"] == [{"line": 3, "field": "customer_id", "message": "No customer with this id."}]
    assert customer.attributes.get(attribute_name="support_tier").attribute_value == "gold"


def test_rejected_rows_are_listed_with_line_numbers_and_nothing_is_written(client, importer, customer):
    before = snapshot()
    csv_text = (
        "customer_id,attribute_name,attribute_value\n"  # line 1
        f"{customer.pk},Support Tier,gold\n"  # 2: bad name
        f"{customer.pk},notes,{'x' * 151}\n"  # 3: value too long
        "999999,support_tier,gold\n"  # 4: unknown customer
        "abc,support_tier,gold\n"  # 5: not an integer
        f"{customer.pk},billing_plan,annual\n"  # 6: fine
        f"{customer.pk},billing_plan,monthly\n"  # 7: repeated name for that customer
        f"{customer.pk},region,south\n"  # 8: fine
    )

    response = upload(client, csv_text)
    html = response.content.decode()
    table = re.findall(r"<tr><td class=\"nowrap\">(\d+)</td><td class=\"font-monospace\">(\w+)</td>", html)

    assert response.status_code == 200
    assert table == [
        ("2", "attribute_name"),
        ("3", "attribute_value"),
        ("4", "customer_id"),
        ("5", "customer_id"),
        ("7", "attribute_name"),
    ]
    assert "is not a valid attribute name" in html
    assert "limited to 150 characters; this one has 151" in html
    assert "No customer with this id." in html
    assert "Must be a customer id (a positive integer)." in html
    assert "“billing_plan” is repeated for customer" in html
    assert count(html, "rejected") == 5
    assert "Import now" not in html
    assert 'name="token"' not in html
    assert not any(key.startswith(views_csv.SESSION_PREFIX) for key in client.session.keys())
    assert snapshot() == before


def test_missing_header_column_is_explained(client, importer, customer):
    response = upload(client, f"customer_id,attribute_name\n{customer.pk},support_tier\n")
    html = response.content.decode()

    assert response.status_code == 200
    assert "The CSV header must include customer_id, attribute_name, attribute_value; missing: attribute_value." in html
    assert "Import now" not in html


def test_non_utf8_file_is_explained(client, importer, customer):
    before = snapshot()

    response = upload(
        client, f"customer_id,attribute_name,attribute_value\n{customer.pk},city,Zürich\n".encode("latin-1")
    )

    assert response.status_code == 200
    assert "The file is not UTF-8 text." in response.content.decode()
    assert snapshot() == before


def test_malformed_csv_is_explained(client, importer, customer):
    response = upload(client, f"customer_id,attribute_name,attribute_value\n{customer.pk},city,{'x' * 200_000}\n")

    assert response.status_code == 200
    assert "The file is not valid CSV: field larger than field limit" in response.content.decode()


def test_files_over_5_mb_are_refused_with_a_pointer_to_the_command(client, importer, customer):
    header = b"customer_id,attribute_name,attribute_value\n"
    content = header + b"x" * (forms.MAX_UPLOAD_BYTES - len(header) + 1)

    response = upload(client, content)
    html = response.content.decode()

    assert response.status_code == 200
    assert "the limit here is 5.0\xa0MB" in html
    assert "python manage.py import_attributes FILE" in html


def test_header_only_file_previews_nothing_to_import(client, importer):
    html = upload(client, "customer_id,attribute_name,attribute_value\n").content.decode()

    assert "no rows to import" in html
    assert "Import now" not in html


def test_bom_and_extra_columns_are_accepted(client, importer, customer):
    csv_text = f"\ufeffcustomer_id,comment,attribute_name,attribute_value\n{customer.pk},hi,support_tier,platinum\n"

    html = upload(client, csv_text).content.decode()

    assert count(html, "updated") == 1
    assert count(html, "rejected") == 0


def test_export_then_import_changes_nothing(client, importer, customer):
    other = make_customer(customer_name='Quote "Co", =SUM(A1)')
    make_attribute(other, "formula", "=1+1")
    make_attribute(other, "apostrophe", "'quoted")
    make_attribute(other, "tabbed", "a\tb")
    before = snapshot()
    exported = b"".join(client.get("/customers/attributes-export.csv").streaming_content)
    assert b"'=1+1" in exported

    preview = upload(client, exported, name="attributes.csv").content.decode()
    key = token(preview)
    client.post(URL, {"token": key})
    [job] = runner.run_queued()

    assert (count(preview, "created"), count(preview, "updated"), count(preview, "unchanged")) == (0, 0, 5)
    assert count(preview, "rejected") == 0
    assert (job.status, job.result["unchanged"]) == (Job.Status.SUCCEEDED, 5)
    assert snapshot() == before
