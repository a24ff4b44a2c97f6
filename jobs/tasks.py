"""The engine's one task: "run job X". Everything else about a job lives in the Job row (see `runner`)."""

from django_tasks import task


@task()
def run_job(job_id: str) -> None:
    from . import runner

    runner.run(job_id)
