"""crm_attributes_client: the CRM's Customer Attributes API from Python.

from crm_attributes_client import Client
crm = Client()   # CRM_URL and CRM_TOKEN from the environment
"""

__version__ = "0.1.0"

from .client import BULK_MAX_ITEMS, Client  # noqa: E402 (after __version__, which client.py reads)
from .errors import (  # noqa: E402
    AuthenticationError,
    BulkError,
    BulkItemError,
    Conflict,
    CrmError,
    JobFailed,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TransportError,
    ValidationError,
)
from .feed import EventStream  # noqa: E402
from .models import (  # noqa: E402
    Attribute,
    BulkResult,
    Customer,
    Delivery,
    DeliveryAttempt,
    Event,
    EventActor,
    EventData,
    HistoryRecord,
    ImportPreview,
    Job,
    NameUsage,
    RejectedRow,
    RenameReport,
    Reveal,
    UsageReport,
    Webhook,
    WebhookMessage,
)
from .registry import Definition  # noqa: E402
from .webhooks import WebhookVerificationError, verify_webhook  # noqa: E402

__all__ = [
    "BULK_MAX_ITEMS",
    "Attribute",
    "AuthenticationError",
    "BulkError",
    "BulkItemError",
    "BulkResult",
    "Client",
    "Conflict",
    "CrmError",
    "Customer",
    "Definition",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "EventActor",
    "EventData",
    "EventStream",
    "HistoryRecord",
    "ImportPreview",
    "Job",
    "JobFailed",
    "NameUsage",
    "NotFound",
    "PermissionDenied",
    "PreconditionFailed",
    "RateLimited",
    "RejectedRow",
    "RenameReport",
    "Reveal",
    "ServerError",
    "ServiceUnavailable",
    "TransportError",
    "UsageReport",
    "ValidationError",
    "Webhook",
    "WebhookMessage",
    "WebhookVerificationError",
    "__version__",
    "verify_webhook",
]
