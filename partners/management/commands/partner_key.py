from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from partners import services
from partners.models import Partner, Scope, WebhookEndpoint


class Command(BaseCommand):
    help = "Make an API key for a partner (made if new) and print it once. The clinic keeps only its hash."

    def add_arguments(self, parser):
        parser.add_argument("partner", help="The partner's name.")
        parser.add_argument("--kind", choices=Partner.Kind.values, default=Partner.Kind.PRACTICE)
        parser.add_argument("--scopes", default=",".join(Scope.values), help="Comma-separated; default all.")
        parser.add_argument("--days", type=int, default=None, help="Days until it expires (default 365).")
        parser.add_argument("--webhook-url", default="", help="Also register this webhook endpoint.")

    def handle(self, *args, partner, kind, scopes, days, webhook_url, **options):
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(Scope.values))
        if unknown:
            raise CommandError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(Scope.values)}")
        if webhook_url:
            # Judged before anything is made: a refused address leaves no key behind.
            try:
                WebhookEndpoint(url=webhook_url).clean()
            except ValidationError as exc:
                raise CommandError(f"--webhook-url {webhook_url}: {' '.join(exc.message_dict['url'])}") from exc
        row, _ = Partner.objects.get_or_create(name=partner, defaults={"kind": kind})
        key, full = services.api_key_create(partner=row, name="made on the command line", scopes=wanted, days=days)
        self.stdout.write(f"API key for {row.name} (shown once, expires {key.expires_at:%Y-%m-%d}):\n{full}")
        if webhook_url:
            endpoint, secret = services.webhook_endpoint_create(partner=row, url=webhook_url)
            self.stdout.write(f"Webhook endpoint {endpoint.url}, signing secret (shown once):\n{secret}")
