"""Third review, medium: 480 requests with ``Authorization: Bearer nonsense``
wrote 480 chained audit entries under the chain's lock, and no 429 ever came.

Now calls without a valid key are limited per client address
(INTAKE_API_REFUSED_PER_MINUTE, counted in the shared cache) and audited in
aggregate: one entry per address per minute, carrying the count of the
address's previous minute."""

from unittest import mock

import pytest
from django.utils import timezone

from clinic.models import AuditEntry
from tests.partners.conftest import auth, make_key, make_partner

pytestmark = pytest.mark.django_db

BAD = {"HTTP_AUTHORIZATION": "Bearer nonsense"}


def _refused_entries():
    return AuditEntry.objects.filter(object_type="partner_api", action=AuditEntry.Action.REFUSED)


def test_500_bad_key_requests_give_a_handful_of_audit_entries_and_mostly_429(client, settings):
    settings.INTAKE_API_REFUSED_PER_MINUTE = 20
    before = AuditEntry.objects.count()
    codes = [client.get("/api/v1/referrals/", **BAD).status_code for _ in range(500)]
    assert set(codes) <= {401, 429}
    # The first minute's 20 get their 401; a run that crosses a minute boundary gets 20 more.
    assert codes.count(429) >= 460
    assert codes[:20] == [401] * 20
    # One entry per address per minute (two if the run crossed a minute boundary).
    assert 1 <= _refused_entries().count() <= 2
    assert AuditEntry.objects.count() - before <= 2
    too_many = client.get("/api/v1/referrals/", **BAD)
    assert too_many.status_code == 429
    assert too_many["Content-Type"] == "application/problem+json"
    assert too_many.json()["status"] == 429 and int(too_many["Retry-After"]) > 0
    assert "without a valid API key" in too_many.json()["detail"]


def test_no_key_at_all_counts_too(client, settings):
    settings.INTAKE_API_REFUSED_PER_MINUTE = 3
    codes = [client.get("/api/v1/referrals/").status_code for _ in range(10)]
    assert codes == [401] * 3 + [429] * 7
    assert _refused_entries().count() <= 2


def test_a_valid_key_from_the_same_address_still_works(client, settings, db):
    settings.INTAKE_API_REFUSED_PER_MINUTE = 5
    full = make_key(make_partner("Northside Family Practice"))[1]
    for _ in range(30):
        client.get("/api/v1/referrals/", **BAD)
    assert client.get("/api/v1/referrals/", **auth(full)).status_code == 200


def test_the_next_minutes_entry_carries_the_previous_minutes_count(client, settings):
    settings.INTAKE_API_REFUSED_PER_MINUTE = 1000
    first = timezone.now().replace(second=1, microsecond=0)
    with mock.patch("partners.services.timezone.now", return_value=first):
        for _ in range(37):
            client.get("/api/v1/referrals/", **BAD)
    with mock.patch("partners.services.timezone.now", return_value=first + timezone.timedelta(minutes=3)):
        client.get("/api/v1/referrals/", **BAD)
        client.get("/api/v1/referrals/", **BAD)
    entries = list(_refused_entries().order_by("id"))
    assert len(entries) == 2
    assert "first GET referrals 401" in entries[0].summary
    assert f"{first:%Y-%m-%dT%H:%M}Z, had 37" in entries[1].summary
    assert entries[1].ip == "127.0.0.1"


def test_addresses_are_counted_apart(client, settings):
    settings.INTAKE_API_REFUSED_PER_MINUTE = 2
    for _ in range(3):
        client.get("/api/v1/referrals/", REMOTE_ADDR="203.0.113.5", **BAD)
    assert client.get("/api/v1/referrals/", REMOTE_ADDR="203.0.113.5", **BAD).status_code == 429
    assert client.get("/api/v1/referrals/", REMOTE_ADDR="203.0.113.6", **BAD).status_code == 401
    assert _refused_entries().count() == 2


def test_an_ipv6_client_counts_per_64_not_per_address(client, settings):
    settings.INTAKE_API_REFUSED_PER_MINUTE = 2
    codes = [
        client.get("/api/v1/referrals/", REMOTE_ADDR=f"2001:db8:1:2::{i:x}", **BAD).status_code for i in range(1, 6)
    ]
    assert codes == [401, 401, 429, 429, 429]
    assert client.get("/api/v1/referrals/", REMOTE_ADDR="2001:db8:1:3::1", **BAD).status_code == 401
    assert _refused_entries().count() == 2  # one per /64


def test_a_key_past_its_rate_cannot_flood_the_chain_either(client, settings):
    settings.INTAKE_API_RATE_LIMIT = "5/min"
    full = make_key(make_partner("Northside Family Practice"))[1]
    before = AuditEntry.objects.count()
    codes = [client.get("/api/v1/referrals/", **auth(full)).status_code for _ in range(100)]
    assert codes.count(200) == 5 and codes.count(429) == 95
    # One entry per call that was served, one for the minute's 429s (two if it crossed a minute).
    assert AuditEntry.objects.count() - before <= 7
    refused = list(_refused_entries())
    assert 1 <= len(refused) <= 2 and all("refused with 429 for partner" in e.summary for e in refused)
