"""WSGI entry point: `gunicorn crm_project.wsgi`."""

import json
import os
import tempfile

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

# The largest chunked body read: a 5 MB CSV import with its multipart framing fits; the JSON API's own limit
# (DATA_UPLOAD_MAX_MEMORY_SIZE) still applies after this, as for a body sent with Content-Length.
CHUNKED_BODY_MAX_BYTES = 8 * 1024 * 1024
_READ_SIZE = 64 * 1024


class ChunkedBodyMiddleware:
    """Give Django the length of a `Transfer-Encoding: chunked` body, which it would otherwise read as empty.

    Django reads exactly CONTENT_LENGTH bytes (none when it is missing). A server that decodes chunked input
    says so with `wsgi.input_terminated` (gunicorn does); the body is then read to its end here, into memory
    or past 1 MB a temporary file, and handed on with its length, exactly like a body that came with one.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
            body = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # freed with the request
            size = 0
            while chunk := environ["wsgi.input"].read(_READ_SIZE):
                size += len(chunk)
                if size > CHUNKED_BODY_MAX_BYTES:
                    body.close()
                    return self._too_large(start_response)
                body.write(chunk)
            body.seek(0)
            environ["wsgi.input"] = body
            environ["CONTENT_LENGTH"] = str(size)
        return self.app(environ, start_response)

    @staticmethod
    def _too_large(start_response):
        payload = json.dumps({"detail": f"The request body is larger than {CHUNKED_BODY_MAX_BYTES} bytes."}).encode()
        start_response(
            "413 Content Too Large",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), ("Connection", "close")],
        )
        return [payload]


application = ChunkedBodyMiddleware(get_wsgi_application())

# gunicorn runs no system checks: refuse to serve (DEBUG off) a registry with sensitive names and no keys.
from attributes.sensitive import check_startup  # noqa: E402 (needs the apps loaded above)

check_startup()
