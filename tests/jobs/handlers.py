"""Job kinds for the engine's tests; worker processes import this module too (JOBS_EXTRA_MODULES)."""

import time

from jobs import engine, runner
from jobs.models import Job

CALLS: list[str] = []


@engine.handler("tests.count")
def count(ctx: engine.JobContext) -> dict:
    """Counts to params["to"] in chunks of 2, resuming from the checkpoint; a hook can stop it midway."""
    to = ctx.params["to"]
    ctx.set_total(to)
    position = ctx.checkpoint.get("at", 0)
    while position < to:
        ctx.check()
        with ctx.chunk():
            position = min(to, position + 2)
            CALLS.append(f"{ctx.job.pk}:{position}")
            time.sleep(ctx.params.get("sleep", 0))
            chunks = [*(ctx.job.result or {}).get("chunks", []), position]  # committed with the chunk: a chunk
            ctx.commit(done=position, checkpoint={"at": position}, result={"counted": position, "chunks": chunks})
        if hook := ctx.params.get("hook"):
            HOOKS[hook](ctx, position)
    return {"counted": position, "chunks": (ctx.job.result or {}).get("chunks", [])}


@engine.handler("tests.refuse")
def refuse(ctx):
    raise engine.JobFailed("Nothing to do here.", result={"why": "test"})


@engine.handler("tests.crash")
def crash(ctx):
    raise RuntimeError("boom")


def _cancel_at_4(ctx, position):
    if position == 4:
        engine.cancel(Job.objects.get(pk=ctx.job.pk))


def _shutdown_at_4(ctx, position):
    if position == 4:
        runner.stopping.set()


def _steal_at_2(ctx, position):
    if position == 2:  # another worker took the lease over (this one looked dead)
        Job.objects.filter(pk=ctx.job.pk).update(lease_owner="someone-else")


HOOKS = {"cancel": _cancel_at_4, "shutdown": _shutdown_at_4, "steal": _steal_at_2}


@engine.handler("tests.periodic", every=60)
def periodic(ctx: engine.JobContext) -> dict:
    """A periodic kind: the sweeper starts one when none is active and the last finished a minute ago."""
    return {"ran": True}
