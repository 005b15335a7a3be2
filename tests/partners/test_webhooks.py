"""Signed webhooks through the outbox: a receiving HTTP server started here."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from intake.models import CaseEvent
from intake.services.lifecycle import case_transition
from intake.services.routing import case_route
from partners import services
from partners.models import Partner, WebhookDelivery
from tests.conftest import broker_down, drop_other_connections, purge_broker
from tests.intake.helpers import wait_for

from .conftest import REFERRAL, auth, make_key, make_partner
from .webhook_support import Receiver, purge_webhooks_queue


def _docs_code(marker: str, lang: str = "python") -> str:
    """The code block of docs/partners.md that contains ``marker``, exactly as partners read it."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "partners.md").read_text()
    blocks = [b for b in re.findall(rf"```{lang}\n(.*?)```", text, re.S) if marker in b]
    assert len(blocks) == 1, f"one {lang} block with {marker!r} in docs/partners.md"
    return blocks[0]


def _docs_function(marker: str, name: str):
    namespace = {"__name__": "docs_snippet"}
    exec(_docs_code(marker), namespace)  # noqa: S102  (our own documentation's snippet, tested as partners will run it)
    return namespace[name]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _referred_case(client, partner, body=None):
    full = make_key(partner)[1]
    response = client.post("/api/v1/referrals/", body or REFERRAL, content_type="application/json", **auth(full))
    assert response.status_code == 201
    from intake.models import ReviewRequest

    return ReviewRequest.objects.get(reference=response.json()["reference"])


def _check_signed(secret, headers, body):
    """Verified by the standardwebhooks library and by the docs' own receiver;
    refused by both under another secret."""
    payload = Webhook(secret).verify(body, headers)
    docs_verify = _docs_function("def verify(", "verify")
    assert docs_verify(secret, headers, body)
    other = services.keys.webhook_secret_new()
    assert not docs_verify(other, headers, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)
    assert _header(headers, "webhook-id") == payload["id"] == json.loads(body)["id"]
    return payload


def _header(headers, name):
    return {k.lower(): v for k, v in headers.items()}[name.lower()]


def test_a_status_change_is_delivered_once_signed_with_only_reference_and_stage(db, seeded, client, receiver):
    partner = make_partner("Northside Family Practice")
    endpoint, secret = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    case = _referred_case(client, partner)
    case_route(case_id=case.pk)
    assert services.webhook_deliveries_collect() == 1
    assert services.webhook_deliveries_collect() == 0  # unique per event and endpoint
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_delivery_send(delivery_id=delivery.pk) is True
    assert services.webhook_delivery_send(delivery_id=delivery.pk) is False  # already sent: nothing
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    payload = _check_signed(secret, headers, body)
    assert set(payload) == {"id", "type", "reference", "stage", "occurred_at"}
    assert payload["reference"] == case.reference and payload["stage"]["key"] == "triage"
    # Whole answers: a fragment like "555" also turns up in a random event id.
    for answer in ("Jordan", "Reyes", "1971-04-02", "555-0142", "5550142", "herniated", "Lakeside", "lower_back"):
        assert answer not in body.decode()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)


def test_another_partners_endpoint_gets_nothing(db, seeded, client, receiver):
    a, b = make_partner("A practice"), make_partner("B partners", kind=Partner.Kind.LEAD_PARTNER)
    services.webhook_endpoint_create(partner=b, url=receiver.url)
    case = _referred_case(client, a)
    case_route(case_id=case.pk)
    assert services.webhook_deliveries_collect() == 0
    assert not WebhookDelivery.objects.exists()


def test_a_refusing_receiver_is_retried_with_backoff_then_given_up_and_resent_from_the_admin(
    db, seeded, client, receiver, settings
):
    settings.INTAKE_WEBHOOK_MAX_ATTEMPTS = 2
    partner = make_partner("Northside Family Practice")
    services.webhook_endpoint_create(partner=partner, url=receiver.url)
    case_route(case_id=_referred_case(client, partner).pk)
    services.webhook_deliveries_collect()
    d = WebhookDelivery.objects.get()
    receiver.status = 500
    assert services.webhook_delivery_send(delivery_id=d.pk) is False
    d.refresh_from_db()
    # What the endpoint answered stays in the server log: the admin reads "could not deliver".
    assert (d.state, d.attempts, d.last_status_code, d.last_error) == ("pending", 1, None, "could not deliver")
    assert d.next_attempt_at > timezone.now() + timedelta(seconds=20)  # 30 s backoff
    assert services.webhook_delivery_send(delivery_id=d.pk) is False  # not due yet: not sent
    assert len(receiver.requests) == 1
    WebhookDelivery.objects.filter(pk=d.pk).update(next_attempt_at=timezone.now())
    services.webhook_delivery_send(delivery_id=d.pk)
    d.refresh_from_db()
    assert (d.state, d.attempts) == ("failed", 2)
    receiver.status = 204
    assert services.webhook_delivery_resend(delivery=d)
    assert services.webhook_delivery_send(delivery_id=d.pk) is True
    d.refresh_from_db()
    assert d.state == "sent" and len(receiver.requests) == 3
    ids = {_header(h, "webhook-id") for h, _ in receiver.requests}
    assert ids == {str(d.event_id)}  # every try of one event carries its one id


def test_delivered_but_unmarked_retries_only_the_mark(db, seeded, client, receiver, monkeypatch):
    partner = make_partner("Northside Family Practice")
    services.webhook_endpoint_create(partner=partner, url=receiver.url)
    case_route(case_id=_referred_case(client, partner).pk)
    services.webhook_deliveries_collect()
    d = WebhookDelivery.objects.get()
    real_mark = services._mark_sent

    def database_gone(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(services, "_mark_sent", database_gone)
    with pytest.raises(services.DeliveredButUnmarked):
        services.webhook_delivery_send(delivery_id=d.pk)
    monkeypatch.setattr(services, "_mark_sent", real_mark)
    d.refresh_from_db()
    assert d.state == "sending"  # claimed: no sweep sends it again for 10 minutes
    assert services.webhooks_sweep() == 0
    services.webhook_delivery_send(delivery_id=d.pk, delivered=True)
    d.refresh_from_db()
    assert d.state == "sent" and len(receiver.requests) == 1


def test_a_stuck_claim_is_sent_again_under_the_same_event_id(db, seeded, client, receiver):
    partner = make_partner("Northside Family Practice")
    services.webhook_endpoint_create(partner=partner, url=receiver.url)
    case_route(case_id=_referred_case(client, partner).pk)
    services.webhook_deliveries_collect()
    d = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=d.pk).update(
        state="sending", attempts=1, claimed_at=timezone.now() - timedelta(minutes=11)
    )
    services.webhooks_sweep()
    d.refresh_from_db()
    assert d.state == "pending" and d.attempts == 1


@pytest.mark.worker
def test_delivered_exactly_once_per_event_through_a_broker_outage(transactional_db, seeded_tx, client, receiver):
    """Status changes during a broker outage: the deliveries wait in the outbox;
    once the broker is back the sweep enqueues them and a real worker sends
    each event once, however often the sweep runs."""
    from celery.contrib.testing.worker import start_worker

    from clinic.celery import app

    partner = make_partner("Northside Family Practice")
    endpoint, secret = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    case = _referred_case(client, partner)
    with broker_down(app):
        case_route(case_id=case.pk)  # submitted -> triage
        assert services.webhooks_sweep() == 0  # recorded, but the broker takes nothing
        assert services.webhooks_sweep() == 0
    assert WebhookDelivery.objects.filter(state="pending", enqueued_at__isnull=True).count() == 1
    assert receiver.requests == []

    purge_broker()
    purge_webhooks_queue()  # earlier tests' sweeps left messages there
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        assert services.webhooks_sweep() == 1
        services.webhooks_sweep()  # enqueued already: not again
        wait_for(lambda: WebhookDelivery.objects.filter(state="sent").count() == 1)
        case_transition(case_id=case.pk, to_status="awaiting_mri")
        services.webhooks_sweep()
        wait_for(lambda: WebhookDelivery.objects.filter(state="sent").count() == 2)
        services.webhooks_sweep()
        services.webhooks_sweep()
    drop_other_connections()
    events = CaseEvent.objects.filter(case=case, kind__in=["status", "routed"]).exclude(to_status="")
    assert WebhookDelivery.objects.count() == events.count() == 2
    assert len(receiver.requests) == 2
    stages = [_check_signed(secret, h, b)["stage"]["key"] for h, b in receiver.requests]
    assert stages == ["triage", "awaiting_mri"]
    assert len({_header(h, "webhook-id") for h, _ in receiver.requests}) == 2
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_an_event_committed_after_a_later_one_is_still_collected(db, seeded, client, receiver):
    """On PostgreSQL two transactions can commit out of id order: the cursor
    may already be past an event that appears later. The look-back finds it."""
    from partners.models import WebhookEndpoint

    partner = make_partner("Northside Family Practice")
    endpoint, _ = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    case = _referred_case(client, partner)
    case_route(case_id=case.pk)
    event = CaseEvent.objects.get(case=case, kind="routed")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(cursor=event.pk + 1000)  # a later event was seen first
    assert services.webhook_deliveries_collect() == 1
    assert services.webhook_deliveries_collect() == 0
    assert WebhookDelivery.objects.get().case_event_id == event.pk


@pytest.mark.django_db
def test_webhook_addresses_must_be_https_except_on_this_machine():
    from django.core.exceptions import ValidationError

    partner = make_partner("Northside Family Practice")
    with pytest.raises(ValidationError):
        services.webhook_endpoint_create(partner=partner, url="http://partner.example/hook")
    with pytest.raises(ValidationError):
        services.webhook_endpoint_create(partner=partner, url="ftp://partner.example/hook")
    assert services.webhook_endpoint_create(partner=partner, url="https://partner.example/hook")[0].pk
    assert services.webhook_endpoint_create(partner=partner, url="http://127.0.0.1:9000/hook")[0].pk
