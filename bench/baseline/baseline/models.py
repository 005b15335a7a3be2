from django.db import models

CONTACT_METHODS = [("email", "Email"), ("phone", "Phone"), ("text", "Text message")]
CONTACT_TIMES = [("morning", "Morning"), ("afternoon", "Afternoon"), ("evening", "Evening")]
REGIONS = [("neck", "Neck"), ("upper_back", "Upper back"), ("mid_back", "Mid back"), ("lower_back", "Lower back")]
DURATIONS = [("lt6w", "Under 6 weeks"), ("6w_3m", "6 weeks to 3 months"), ("gt3m", "Over 3 months")]
STATES = [("IL", "Illinois"), ("WI", "Wisconsin"), ("IN", "Indiana"), ("MI", "Michigan")]


class Lead(models.Model):
    """21 form fields: text, email, integer, choice, boolean and long text."""

    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField()
    phone = models.CharField(max_length=20)
    address = models.CharField(max_length=200)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2, choices=STATES)
    postal_code = models.CharField(max_length=10)
    age = models.PositiveSmallIntegerField()
    contact_method = models.CharField(max_length=10, choices=CONTACT_METHODS)
    contact_time = models.CharField(max_length=10, choices=CONTACT_TIMES)
    region = models.CharField(max_length=12, choices=REGIONS)
    severity = models.PositiveSmallIntegerField()
    duration = models.CharField(max_length=8, choices=DURATIONS)
    has_mri = models.BooleanField(default=False)
    prior_surgery = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    consent_privacy = models.BooleanField(default=False)
    symptoms = models.TextField()
    history = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class BareRow(models.Model):
    """The row the bare Celery task reads and updates."""

    counter = models.PositiveIntegerField(default=0)
    touched_at = models.DateTimeField(null=True)

    def __str__(self):
        return str(self.pk)
