from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tokens.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for USERNAME. The token is printed alone on the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what uses the token (default: 'command line')")
        parser.add_argument("--expires-days", type=int, default=None, help="days until it expires (default: never)")

    def handle(self, *args, username: str, name: str, expires_days: int | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        token, raw = ApiToken.issue(user=user, name=name, expires_days=expires_days)
        expiry = f"expires {token.expires:%Y-%m-%d %H:%M:%S}" if token.expires else "never expires"
        self.stdout.write(
            f"Created API token {token.name!r} for {username} ({expiry}). Store it now; it is not shown again:"
        )
        self.stdout.write(raw)
