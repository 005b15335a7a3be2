from django.apps import AppConfig


class PartnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partners"
    verbose_name = "Partners and API"

    def ready(self):
        from django.db.models.signals import post_save

        from intake.models import ReviewRequest

        from . import receivers

        post_save.connect(receivers.case_saved, sender=ReviewRequest, dispatch_uid="partners.case_saved")
