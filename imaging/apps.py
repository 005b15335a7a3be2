from django.apps import AppConfig
from django.core.signals import request_started


class ImagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "imaging"
    verbose_name = "Imaging"

    def ready(self):
        from intake.signals import mri_files_attached

        from . import receivers

        mri_files_attached.connect(receivers.index_attached_files, dispatch_uid="imaging.index_attached_files")
        # A web process starts one decoder (imaging.cage) on its first request, so
        # a clinician's first slice never waits for a decoder to import.
        request_started.connect(_warm_decoder, dispatch_uid="imaging.warm_decoder")


def _warm_decoder(sender, **kwargs):
    from django.core.signals import request_started

    from . import cage

    request_started.disconnect(dispatch_uid="imaging.warm_decoder")
    cage.warm()
