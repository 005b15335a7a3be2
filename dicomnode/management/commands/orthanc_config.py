"""Print an Orthanc configuration for a local DICOM node (README, "DICOM node")."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from dicomnode.orthanc import orthanc_config


class Command(BaseCommand):
    help = "Print the JSON configuration to run a local Orthanc as the clinic's DICOM node."

    def add_arguments(self, parser):
        parser.add_argument("--http-port", type=int, default=8042)
        parser.add_argument("--dicom-port", type=int, default=4242)
        parser.add_argument("--storage", default=None, help="Orthanc's own storage folder (default var/orthanc).")
        parser.add_argument("--username", default="intake")
        parser.add_argument("--password", required=True)
        parser.add_argument("--aet", default="CLINIC", help="The node's AE title (senders call it).")
        parser.add_argument("--stable-age", type=int, default=3, help="Seconds without a new image: study complete.")
        parser.add_argument(
            "--sender",
            action="append",
            default=[],
            metavar="NAME:AET:HOST:PORT",
            help="A modality allowed to send (C-STORE), checked by AE title and host. Repeat for several.",
        )

    def handle(self, *args, **opts):
        senders = {}
        for spec in opts["sender"]:
            name, aet, host, port = spec.split(":")
            senders[name] = (aet, host, int(port))
        config = orthanc_config(
            http_port=opts["http_port"],
            dicom_port=opts["dicom_port"],
            storage_dir=opts["storage"] or str(settings.VAR_DIR / "orthanc"),
            username=opts["username"],
            password=opts["password"],
            aet=opts["aet"],
            stable_age=opts["stable_age"],
            senders=senders,
        )
        self.stdout.write(json.dumps(config, indent=2))
