"""`manage.py run_with_worker -- <server command line>`: the web server and one job worker, as one command.

`make run` (runserver) and `make serve` (gunicorn) start through it, so one command still runs everything.
Each child runs in a process group of its own and only this command decides when they stop: Ctrl-C (SIGINT)
or SIGTERM here is passed on to both groups (the worker checkpoints its job and exits, the server stops), and
when either child ends on its own the other is stopped too. Whatever is still alive after `--grace` seconds,
or at a second Ctrl-C, is killed with its whole group, so no orphan worker (or runserver reloader) stays.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

POLL_SECONDS = 0.2


class Command(BaseCommand):
    help = "Run a web server command and one background worker beside it; Ctrl-C or SIGTERM stops both."

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=float, default=30.0, help="Seconds the children get to stop.")
        parser.add_argument("server", nargs=argparse.REMAINDER, help="The server's command line, after --.")

    def handle(self, *, server: list[str], grace: float, **options):
        if server[:1] == ["--"]:
            server = server[1:]
        if not server:
            raise CommandError("Give the server's command line after --, e.g. -- python manage.py runserver")
        signals: list[int] = []
        children: dict[str, subprocess.Popen] = {}

        def received(signum, frame):
            signals.append(signum)
            if len(signals) > 1:  # a second Ctrl-C: no more waiting
                self._kill(children)

        signal.signal(signal.SIGINT, received)
        signal.signal(signal.SIGTERM, received)
        manage = str(settings.BASE_DIR / "manage.py")
        # process_group=0: a group of its own, so the terminal's Ctrl-C reaches the children only through us.
        children["worker"] = subprocess.Popen([sys.executable, manage, "run_worker"], process_group=0)
        children["server"] = subprocess.Popen(server, process_group=0)
        self.stdout.write(
            f"Job worker (pid {children['worker'].pid}) and server (pid {children['server'].pid}) started; "
            "Ctrl-C stops both.",
        )
        self.stdout.flush()
        ended = None
        while not signals and ended is None:
            ended = next((name for name, child in children.items() if child.poll() is not None), None)
            time.sleep(POLL_SECONDS)
        # Pass the user's signal on; a child that ended on its own takes the other down with SIGTERM.
        stop = signals[0] if signals else signal.SIGTERM
        for child in children.values():
            if child.poll() is None:
                _signal_group(child, stop)
        deadline = time.monotonic() + grace
        while any(child.poll() is None for child in children.values()) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        self._kill(children)  # what is left, and anything the children left in their groups
        if ended is not None:
            code = children[ended].returncode
            self.stderr.write(f"The {ended} stopped (exit status {code}); the other was stopped too.")
            sys.exit(128 - code if code < 0 else code)  # killed by a signal: 128 + its number, as shells say

    @staticmethod
    def _kill(children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            _signal_group(child, signal.SIGKILL)
            child.poll()


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:  # the group is empty: everyone in it has exited
        pass
