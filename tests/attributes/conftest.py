import pytest


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Render pages without a collectstatic run: the manifest storage (DEBUG off) needs collected files.

    The gunicorn test runs collectstatic for real, into a temporary STATIC_ROOT.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; a deliberately slow hasher would only slow them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
