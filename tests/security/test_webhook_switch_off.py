"""Finding: switching off a partner or an endpoint did not stop queued
deliveries (issue 22, point 6): 19 more POSTs reached the endpoint up to
222 s later, and would have gone on for 12 tries.

Now the delivery task checks at send time, under the endpoint's lock: an
inactive partner, an inactive endpoint or the referral's revoked key cancels
the queued delivery with the reason; it is never retried."""

import pytest
from django.utils import timezone

from intake.models import ReviewRequest
from intake.services.lifecycle import case_transition
from intake.services.routing import case_route
from partners import services
from partners.models import ApiKey, Partner, WebhookDelivery, WebhookEndpoint
from partners.tasks import deliver_webhook
from tests.partners.conftest import REFERRAL, auth, make_key, make_partner
from tests.partners.webhook_support import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _queued(client, receiver, cases=2):
    """Deliveries collected and waiting (as after a sweep enqueued them)."""
    partner = make_partner("Northside Family Practice")
    endpoint, _ = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    key, full = make_key(partner)
    for i in range(cases):
        body = {**REFERRAL, "email": f"patient{i}@example.com"}
        ref = client.post("/api/v1/referrals/", body, content_type="application/json", **auth(full)).json()
        case = ReviewRequest.objects.get(reference=ref["reference"])
        case_route(case_id=case.pk)
        case_transition(case_id=case.pk, to_status="awaiting_mri")
    assert services.webhook_deliveries_collect() == 2 * cases
    return partner, endpoint, key


def _run_every_task():
    """The worker's side: each queued message, as Celery runs it, twice over."""
    for _ in range(2):
        for pk in WebhookDelivery.objects.values_list("pk", flat=True):
            deliver_webhook.apply(args=(pk,))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("switch_off", "reason"),
    [
        (lambda p, e, k: Partner.objects.filter(pk=p.pk).update(is_active=False), "the partner is switched off"),
        (
            lambda p, e, k: WebhookEndpoint.objects.filter(pk=e.pk).update(is_active=False),
            "the endpoint is switched off",
        ),
        (lambda p, e, k: services.api_key_revoke(key=k), "the referral's API key is revoked"),
    ],
    ids=["partner", "endpoint", "key"],
)
def test_switching_off_cancels_every_queued_delivery(client, seeded, receiver, switch_off, reason):
    partner, endpoint, key = _queued(client, receiver)
    switch_off(partner, endpoint, key)
    _run_every_task()
    assert receiver.requests == []  # not one POST
    rows = list(WebhookDelivery.objects.values_list("state", "attempts", "last_error"))
    assert rows and set(rows) == {("cancelled", 0, f"cancelled: {reason}")}
    # Not retried: the sweep finds nothing due, now or an hour from now.
    assert services.webhooks_sweep() == 0
    assert services.webhooks_sweep(now=timezone.now() + timezone.timedelta(hours=2)) == 0
    assert receiver.requests == []


@pytest.mark.django_db
def test_a_delivery_failing_when_switched_off_gets_no_further_try(client, seeded, receiver, settings):
    """Half-way through its retries: the next try is cancelled, not sent."""
    partner, endpoint, key = _queued(client, receiver, cases=1)
    receiver.status = 503
    first = WebhookDelivery.objects.order_by("pk").first()
    assert services.webhook_delivery_send(delivery_id=first.pk) is False
    assert len(receiver.requests) == 1
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # its backoff is over
    _run_every_task()
    assert len(receiver.requests) == 1
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"cancelled"}


@pytest.mark.django_db
def test_switched_on_again_sends_what_is_new(client, seeded, receiver):
    """Cancelled stays cancelled (staff may send one again from the admin);
    what happens after the switch-on is delivered as before."""
    partner, endpoint, key = _queued(client, receiver, cases=1)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    _run_every_task()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)
    case = ReviewRequest.objects.get()
    case_transition(case_id=case.pk, to_status="no_response")
    assert services.webhook_deliveries_collect() == 1
    _run_every_task()
    assert len(receiver.requests) == 1
    assert ApiKey.objects.get().revoked_at is None
