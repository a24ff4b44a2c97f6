"""/healthz/: 200 after a database round trip, 503 when the database cannot be reached."""

import json

import pytest

# A request through the WSGI application gunicorn serves, in a fresh process configured by `env`.
HEALTHZ_THROUGH_WSGI = """
import json
import wsgiref.util
from crm_project.wsgi import application

environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz/", "HTTP_HOST": "crm.example.net"}
wsgiref.util.setup_testing_defaults(environ)
started = []
body = b"".join(application(environ, lambda status, headers, exc_info=None: started.append(status)))
print(json.dumps({"status": started[0], "body": json.loads(body)}))
"""


def test_healthz_reports_ok_on_a_live_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_sign_in(client, db):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_healthz_only_answers_get(client, db):
    assert client.post("/healthz/").status_code == 405


@pytest.fixture
def served_env(child_env) -> dict[str, str]:
    return {
        **child_env,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "crm.example.net",
        "SECURE_SSL_REDIRECT": "false",
    }


def healthz_in_child(run_child, env: dict[str, str]) -> dict:
    result = run_child(env, "-c", HEALTHZ_THROUGH_WSGI)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_healthz_in_a_fresh_process_reports_ok_when_database_is_reachable(run_child, served_env):
    """The control for the unreachable cases below: the same harness does produce a 200."""
    answer = healthz_in_child(run_child, served_env)

    assert answer["status"] == "200 OK"
    assert answer["body"]["status"] == "ok"


@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param("postgres://postgres@127.0.0.1:1/crm", id="postgres-port-nobody-listens-on"),
        pytest.param("sqlite:////nonexistent-directory-for-healthz/db.sqlite3", id="sqlite-in-missing-directory"),
    ],
)
def test_healthz_reports_503_when_database_is_unreachable(run_child, served_env, database_url):
    answer = healthz_in_child(run_child, {**served_env, "DATABASE_URL": database_url})

    assert answer["status"] == "503 Service Unavailable"
    assert answer["body"]["status"] == "error"
