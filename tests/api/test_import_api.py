"""`POST /crm/attribute/import`: a text/csv body starts an import job (202), `?dry_run=true` previews it (200);
oversized (413), wrong content type (415), non-UTF-8 or headerless bodies and unknown parameters (400) start
nothing; create and update permission are both needed."""

import pytest

from attributes.models import Attribute
from jobs import runner
from jobs.models import Job
from tests.factories import make_attribute, make_customer

from .conftest import ALL_ATTRIBUTE_PERMS

pytestmark = pytest.mark.django_db
URL = "/crm/attribute/import"
HEADER = "customer_id,attribute_name,attribute_value\n"
CREATE, UPDATE = "create_customer_attribute", "update_customer_attribute"


@pytest.fixture
def customer():
    customer = make_customer(customer_name="Acme Fiber")
    make_attribute(customer, "support_tier", "gold")
    return customer


@pytest.fixture
def importer(api):
    return api(CREATE, UPDATE)


def post(client, body: str | bytes, content_type: str = "text/csv", query: str = ""):
    data = body.encode() if isinstance(body, str) else body
    return client.post(URL + query, data, content_type=content_type)


def values() -> list[tuple]:
    return sorted(Attribute.objects.values_list("customer_id", "attribute_name", "attribute_value"))


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_post_starts_an_import_job_and_answers_202_with_where_to_follow_it(importer, customer, path):
    body = HEADER + f"{customer.pk},support_tier,platinum\n{customer.pk},plan,annual\n"

    response = importer.post(path, body.encode(), content_type="text/csv; charset=utf-8")

    job = Job.objects.get()
    assert response.status_code == 202
    assert response.json() == {"job_id": str(job.pk), "status": "queued", "url": f"/crm/job/{job.pk}"}
    assert response["Location"] == f"/crm/job/{job.pk}"
    assert (job.kind, job.payload, job.created_by) == ("attributes.import", body, importer.user)
    [ran] = runner.run_queued()
    assert ran.status == Job.Status.SUCCEEDED
    assert (ran.result["created"], ran.result["updated"]) == (1, 1)
    assert values() == [(customer.pk, "plan", "annual"), (customer.pk, "support_tier", "platinum")]


def test_the_jobs_history_names_the_api_and_the_token(importer, customer):
    post(importer, HEADER + f"{customer.pk},plan,annual\n")
    runner.run_queued()

    entry = Attribute.history.model.objects.get(attribute_name="plan")
    assert (entry.operation, entry.channel, entry.token_name) == ("import", "api", "tests")


def test_dry_run_answers_the_preview_with_line_numbers_and_writes_nothing(importer, customer):
    before = values()
    body = HEADER + (
        f"{customer.pk},support_tier,platinum\n{customer.pk},support_tier,gold\n{customer.pk},new_one,x\n"
        f"{customer.pk},Bad Name,x\n999999,a,b\n"
    )

    response = post(importer, body, query="?dry_run=true")

    assert response.status_code == 200
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 0)
    assert [(r["line"], r["field"]) for r in report["rejected"]] == [
        (3, "attribute_name"),
        (5, "attribute_name"),
        (6, "customer_id"),
    ]
    assert "repeated" in report["rejected"][0]["message"]
    assert values() == before
    assert not Job.objects.exists()


def test_dry_run_false_starts_the_job(importer, customer):
    assert post(importer, HEADER + f"{customer.pk},plan,a\n", query="?dry_run=false").status_code == 202


def test_a_file_with_rejects_is_accepted_and_its_job_fails_with_the_report(importer, customer):
    response = post(importer, HEADER + f"{customer.pk},plan,a\n{customer.pk},Bad Name,x\n")

    assert response.status_code == 202
    [job] = runner.run_queued()
    assert (job.status, job.error) == (Job.Status.FAILED, "1 row rejected; nothing imported")
    assert job.result["rejected"][0]["line"] == 3
    assert not customer.attributes.filter(attribute_name="plan").exists()


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert not Job.objects.exists()
    return response.json()


def test_a_body_over_5_mb_is_413(importer, customer):
    body = (HEADER + f"{customer.pk},note,{'x' * 100}\n" * 52_000).encode()
    assert len(body) > 5 * 1024 * 1024

    assert "5242880 bytes" in _refused(post(importer, body), 413)["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "multipart/form-data; boundary=b", "application/xml"]
)
def test_another_content_type_is_415(importer, customer, content_type):
    _refused(post(importer, HEADER + f"{customer.pk},plan,a\n", content_type=content_type), 415)


def test_a_non_utf8_body_is_400(importer, customer):
    body = f"{HEADER}{customer.pk},city,Zürich\n".encode("latin-1")

    assert "not UTF-8" in _refused(post(importer, body), 400)["detail"]


@pytest.mark.parametrize("body", ["", "customer_id,attribute_name\n1,a\n", "just some text"])
def test_a_body_without_the_header_is_400(importer, customer, body):
    assert "header must include" in str(_refused(post(importer, body), 400))


@pytest.mark.parametrize("query", ["?dryrun=true", "?dry_run=yes", "?dry_run=true&dry_run=false", "?limit=1"])
def test_unknown_or_invalid_query_parameters_are_400(importer, customer, query):
    _refused(post(importer, HEADER + f"{customer.pk},plan,a\n", query=query), 400)


def test_without_credentials_it_is_401(anon, customer):
    _refused(post(anon, HEADER + f"{customer.pk},plan,a\n"), 401)


@pytest.mark.parametrize(
    ("perms", "missing"),
    [((CREATE,), UPDATE), ((UPDATE,), CREATE), (("view_customer_attribute",), CREATE), ((), CREATE)],
)
@pytest.mark.parametrize("query", ["", "?dry_run=true"])
def test_it_needs_create_and_update_permission(api, customer, perms, missing, query):
    body = _refused(post(api(*perms), HEADER + f"{customer.pk},plan,a\n", query=query), 403)

    assert missing in body["detail"]


def test_a_user_with_every_attribute_permission_may_import(api, customer):
    assert post(api(*ALL_ATTRIBUTE_PERMS), HEADER + f"{customer.pk},plan,a\n").status_code == 202


def test_the_schema_documents_the_csv_body_and_both_answers(db):
    from drf_spectacular.generators import SchemaGenerator

    operation = SchemaGenerator().get_schema(request=None, public=True)["paths"]["/crm/attribute/import/"]["post"]

    assert list(operation["requestBody"]["content"]) == ["text/csv"]
    assert {"200", "202", "400", "401", "403", "413", "415"} <= set(operation["responses"])
    assert "create_customer_attribute" in operation["description"]
    assert "update_customer_attribute" in operation["description"]
