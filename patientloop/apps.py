from django.apps import AppConfig


class PatientloopConfig(AppConfig):
    name = "patientloop"
    verbose_name = "Patient follow-up and contact"
