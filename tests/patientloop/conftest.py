"""Fixtures for the patient loop: texts land in a temporary folder."""

import pytest


@pytest.fixture(autouse=True)
def _sms_to_tmp(settings, tmp_path):
    settings.INTAKE_SMS_URL = ""
    settings.INTAKE_SMS_DIR = tmp_path / "sms"
    settings.INTAKE_PATIENT_UPDATE_DEBOUNCE_SECONDS = 180


@pytest.fixture
def staff(seeded):
    from tests.intake.test_admin_support import make_staff

    return make_staff()


def sms_files(settings):
    folder = settings.INTAKE_SMS_DIR
    return sorted(folder.glob("*.txt")) if folder.exists() else []
