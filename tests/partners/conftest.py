import copy
from datetime import date

import pytest

from partners import services
from partners.models import Partner, Scope

ALL_SCOPES = [Scope.REFERRALS_WRITE, Scope.REFERRALS_READ, Scope.CASES_EXPORT]

# A referral as a partner sends it; every value is one the patient form accepts.
REFERRAL = {
    "consent_attested": True,
    "attested_by": "Dr Ana Ruiz, referring physician",
    "red_flags": [],
    "first_name": "Jordan",
    "last_name": "Reyes",
    "date_of_birth": "1971-04-02",
    "email": "jordan.reyes@example.com",
    "phone": "(312) 555-0142",
    "postal_code": "60614",
    "state": "IL",
    "contact_method": "phone",
    "contact_time": "any",
    "consent_phone": True,
    "regions": ["lower_back", "hips_legs"],
    "side": "left",
    "pain_duration": "3m_12m",
    "severity": 6,
    "radiating_pain": True,
    "numbness": False,
    "weakness": False,
    "diagnoses": ["herniated_disc", "sciatica"],
    "treatments": {"physical_therapy": "gt_3m", "medication": "6w_3m"},
    "prior_surgery": False,
    "mri_status": "centre_sends",
    "mri_taken_month": f"{date.today().year - 1}-{date.today().month:02d}",
    "mri_region": "lower_back",
    "imaging_centre": "Lakeside Imaging, Chicago",
}


@pytest.fixture
def referral_body():
    return copy.deepcopy(REFERRAL)


def make_partner(name, kind=Partner.Kind.PRACTICE):
    return Partner.objects.create(name=name, kind=kind)


def make_key(partner, scopes=ALL_SCOPES, **kwargs):
    key, full = services.api_key_create(partner=partner, name="test", scopes=list(scopes), **kwargs)
    return key, full


def auth(full_key):
    return {"HTTP_AUTHORIZATION": f"Bearer {full_key}"}


@pytest.fixture
def partner_a(db):
    return make_partner("Northside Family Practice")


@pytest.fixture
def key_a(partner_a):
    return make_key(partner_a)[1]
