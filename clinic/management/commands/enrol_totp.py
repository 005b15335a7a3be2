"""Enrol a staff member's authenticator app (TOTP) for the admin's second factor."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a TOTP device for a staff user and print the QR code and key for their authenticator app."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Authenticator app")
        parser.add_argument("--replace", action="store_true", help="Remove the user's existing TOTP devices first.")

    def handle(self, *args, username, name, replace, **options):
        import qrcode
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user = get_user_model().objects.filter(username=username, is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff user called {username!r}.")
        if replace:
            TOTPDevice.objects.filter(user=user).delete()
        elif TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise CommandError(f"{username} already has an authenticator; use --replace to enrol a new one.")
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        qr = qrcode.QRCode(border=1)
        qr.add_data(device.config_url)
        qr.print_ascii(out=self.stdout._out, invert=True)
        self.stdout.write(f"\nScan the code above with an authenticator app, or enter this URL:\n{device.config_url}\n")
        self.stdout.write("Then sign in at /admin/ with the user name, password and the app's 6-digit code.")
