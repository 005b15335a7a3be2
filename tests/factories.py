from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from intake.models import QueueMembership, ReviewRequest, StaffQueue


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.example")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get_or_create(name=name)[0])

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()  # the hashed password set above


class StaffQueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffQueue

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")
    sla_hours = 24


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueMembership

    queue = factory.SubFactory(StaffQueueFactory)
    user = factory.SubFactory(UserFactory)


class CaseFactory(factory.django.DjangoModelFactory):
    """A complete review request, as the steps would save it."""

    class Meta:
        model = ReviewRequest

    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Example{n}")
    date_of_birth = date(1970, 3, 21)
    email = factory.Sequence(lambda n: f"pat{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1312555{n % 10000:04d}")
    postal_code = "60614"
    state = "IL"
    contact_method = "email"
    contact_time = "any"
    regions = ["lower_back"]
    side = "left"
    pain_duration = "3m_12m"
    severity = 6
    radiating_pain = True
    numbness = False
    weakness = False
    diagnoses = ["herniated_disc"]
    treatments = {"physical_therapy": "6w_3m"}
    prior_surgery = False
    mri_status = "centre_sends"
    mri_taken_on = date(2026, 6, 1)
    mri_region = "lower_back"
    imaging_centre = "Lakeside Imaging, Chicago"
    source = "article"
    consent_privacy = True
    consent_email = True
