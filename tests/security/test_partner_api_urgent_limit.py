"""Third review, low: a partner key could page the on-call clinician with
urgent referrals at 120 a minute (the web form allows 10 an hour per address).
Now urgent referrals are limited per key per hour (INTAKE_API_URGENT_PER_HOUR);
the one past the limit is a 429 problem with Retry-After, nothing is made, and
supervisors get one system alert (not one per refusal)."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection

from intake.models import ReviewRequest, SystemAlert
from intake.services.alerts import system_alert_send
from partners import services
from partners.problems import UrgentReferralLimit
from partners.serializers import ReferralSerializer
from tests.factories import UserFactory
from tests.partners.conftest import REFERRAL, auth, make_key, make_partner

pytestmark = pytest.mark.django_db


def _urgent(i):
    return dict(REFERRAL, red_flags=["bladder_bowel"], email=f"p{i}@example.com", phone=f"(312) 555-01{i:02d}")


def _send(client, key, body):
    return client.post("/api/v1/referrals/", body, content_type="application/json", **auth(key))


def test_urgent_referrals_past_the_hourly_limit_are_429_and_supervisors_are_told_once(client, seeded, settings):
    settings.INTAKE_API_URGENT_PER_HOUR = 3
    supervisor = UserFactory(is_staff=True, email="supervisor@clinic.example")
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    partner = make_partner("Northside Family Practice")
    key = make_key(partner)[1]
    for i in range(3):
        assert _send(client, key, _urgent(i)).status_code == 201
    over = _send(client, key, _urgent(3))
    again = _send(client, key, _urgent(4))
    assert over.status_code == again.status_code == 429
    assert over["Content-Type"] == "application/problem+json"
    assert 0 < int(over["Retry-After"]) <= 3600
    assert "urgent referrals" in over.json()["detail"] and "urgent care" in over.json()["detail"]
    assert ReviewRequest.objects.filter(is_urgent=True).count() == 3  # nothing made past the limit
    alert = SystemAlert.objects.get(key__startswith="partner-urgent-limit:")
    assert alert.occurrences == 2  # told once, the second refusal only counted
    system_alert_send(alert_id=alert.pk)  # what the alert's task does
    sent = [m for m in mail.outbox if "urgent referrals" in m.subject]
    assert (
        len(sent) == 1
        and sent[0].to == ["supervisor@clinic.example"]
        and "Jordan" not in sent[0].body
        and "Reyes" not in sent[0].body
    )
    # Routine referrals from the same key still go through; another key has its own count.
    assert _send(client, key, dict(REFERRAL, email="routine@example.com")).status_code == 201
    assert _send(client, make_key(partner)[1], _urgent(5)).status_code == 201


def test_a_retry_of_an_accepted_urgent_referral_is_not_refused(client, seeded, settings):
    settings.INTAKE_API_URGENT_PER_HOUR = 1
    key = make_key(make_partner("Northside Family Practice"))[1]
    headers = {**auth(key), "HTTP_IDEMPOTENCY_KEY": "retry-1"}
    body = _urgent(0)
    first = client.post("/api/v1/referrals/", body, content_type="application/json", **headers)
    retry = client.post("/api/v1/referrals/", body, content_type="application/json", **headers)
    assert (first.status_code, retry.status_code) == (201, 200)


@pytest.mark.django_db(transaction=True)
def test_parallel_urgent_referrals_cannot_all_slip_under_the_limit(seeded_tx, settings):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer: requests cannot overlap there (PostgreSQL runs this in CI)")
    settings.INTAKE_API_URGENT_PER_HOUR = 2
    key = make_key(make_partner("Northside Family Practice"))[0]
    bodies = []
    for i in range(6):
        serializer = ReferralSerializer(data=_urgent(i))
        assert serializer.is_valid(), serializer.errors
        bodies.append(serializer.answers())
    barrier, made, refused, errors = threading.Barrier(6), [], [], []

    def send(answers):
        from django.db import connection as conn

        try:
            barrier.wait()
            made.append(services.referral_create(key=key, answers=answers, attested_by="Dr Ruiz", body_hash="x"))
        except UrgentReferralLimit:
            refused.append(1)
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (len(made), len(refused)) == (2, 4)
    assert ReviewRequest.objects.filter(is_urgent=True).count() == 2
