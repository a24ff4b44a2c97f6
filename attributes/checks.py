"""System checks of the attributes app (run by every management command: runserver, migrate, run_worker, …)."""

from django.core import checks


@checks.register(checks.Tags.security)
def sensitive_keys_check(app_configs=None, **kwargs):
    """With DEBUG off, refuse to run when a name is marked sensitive and the encryption keys are missing."""
    from .sensitive import startup_problem

    problem = startup_problem()
    if problem is None:
        return []
    return [checks.Critical(problem, id="attributes.E001")]
