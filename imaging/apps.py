from django.apps import AppConfig


class ImagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "imaging"
    verbose_name = "Imaging"

    def ready(self):
        from intake.signals import mri_files_attached

        from . import receivers

        mri_files_attached.connect(receivers.index_attached_files, dispatch_uid="imaging.index_attached_files")
