from django.conf import settings


def site(request):
    return {
        "clinic_name": settings.INTAKE_CLINIC_NAME,
        "clinic_phone": settings.INTAKE_CLINIC_PHONE,
    }
