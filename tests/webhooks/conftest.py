import pytest

from tests.factories import bearer_client, make_user

from .receiver import Receiver

MANAGE = "manage_webhooks"


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def private_networks(settings):
    """The local receiver listens on 127.0.0.1: allowed only with this setting (as intranets set it)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_RETRY_SCHEDULE = [0, 0, 0]
    settings.WEBHOOKS_IDLE_SECONDS = 0
    settings.WEBHOOKS_RUN_SECONDS = 30


@pytest.fixture
def manager(db):
    return bearer_client(make_user(MANAGE, username="hooks-admin"), "hooks")


@pytest.fixture
def hook(manager, receiver, private_networks):
    """A webhook for every event, pointing at the local receiver, which knows its secret."""
    response = manager.post("/crm/webhook/", {"url": receiver.url, "event_types": ["*"]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    receiver.secrets.append(body["secret"])
    return body
