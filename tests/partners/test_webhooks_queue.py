"""One partner's slow endpoint delays nobody (issue 22, point 3).

The review: deliveries shared the ``routine`` Celery queue with a 10 s
timeout; 12 referrals to an endpoint that slept 30 s delayed routing of
another partner's case from 1.1 s to 46.1 s. Now deliveries run on their own
Celery queue and worker, at most INTAKE_WEBHOOK_MAX_IN_FLIGHT per endpoint at
once (the rest wait their turn), each attempt within one deadline."""

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from intake.models import ReviewRequest
from intake.services.routing import case_route
from partners import services
from partners.models import WebhookDelivery
from tests.conftest import drop_other_connections, purge_broker
from tests.intake.helpers import wait_for
from tests.support.processes import CeleryWorker

from .conftest import REFERRAL, auth, make_key, make_partner
from .webhook_support import DripReceiver, Receiver, purge_webhooks_queue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slow():
    r = Receiver()
    r.hold()
    yield r
    r.close()


@pytest.fixture
def fast():
    r = Receiver()
    yield r
    r.close()


def _refer(client, full, i):
    body = {**REFERRAL, "email": f"patient{i}@example.com"}
    response = client.post("/api/v1/referrals/", body, content_type="application/json", **auth(full))
    assert response.status_code == 201
    return ReviewRequest.objects.get(reference=response.json()["reference"])


def _Worker(queues, concurrency, log, **env) -> CeleryWorker:
    return CeleryWorker(
        log, queues=queues, concurrency=concurrency, name=f"{queues.replace(',', '-')}-{log.stem}", **env
    )


@pytest.mark.worker
def test_a_sleeping_endpoint_delays_neither_routing_nor_another_partner(seeded_tx, client, slow, fast, tmp_path):
    """Partner A's endpoint holds every request until the test lets go. While
    it holds, partner B's case is routed and B's webhook delivered; A's
    endpoint never has more than one request at once; once it answers, each
    of A's deliveries arrives exactly once (waiting is not dropping)."""
    a = make_partner("Slow Practice")
    services.webhook_endpoint_create(partner=a, url=slow.url)
    full_a = make_key(a)[1]
    for i in range(4):
        case_route(case_id=_refer(client, full_a, i).pk)
    b = make_partner("Other Practice")
    services.webhook_endpoint_create(partner=b, url=fast.url)
    full_b = make_key(b)[1]
    # Each routing's commit made its delivery and enqueued it (no worker yet).
    assert WebhookDelivery.objects.filter(endpoint__partner=a).count() == 4
    assert services.webhook_deliveries_collect() == 0
    purge_broker()  # the referrals' own routing messages: routed above already
    purge_webhooks_queue()
    # Those messages are gone: lost, as far as the outbox knows, so the sweep sends them again.
    WebhookDelivery.objects.update(enqueued_at=None)

    # As README's production section runs them. The attempt's deadline is long
    # here, so A's endpoint holds the request for as long as the test says.
    cases = _Worker("urgent,routine", 1, tmp_path / "cases.log")
    hooks = _Worker("webhooks", 2, tmp_path / "hooks.log", INTAKE_WEBHOOK_TIMEOUT=90, INTAKE_WEBHOOK_MAX_IN_FLIGHT=1)
    try:
        wait_for(lambda: cases.ready() and hooks.ready(), timeout=90)
        assert services.webhooks_sweep() == 4
        wait_for(lambda: slow.in_flight == 1, timeout=60)

        _refer(client, full_b, 99)  # routing is enqueued on commit, on the routine queue
        # Routed by the cases worker, whose commit enqueues B's delivery: no sweep needed.
        wait_for(lambda: len(fast.requests) == 1, timeout=60)
        # All of that while A's endpoint still held its first request.
        assert slow.in_flight == 1 and not slow.released.is_set() and len(slow.requests) == 1

        slow.release()

        def all_sent():
            services.webhooks_sweep()
            return WebhookDelivery.objects.filter(endpoint__partner=a, state="sent").count() == 4

        wait_for(all_sent, timeout=120)
    finally:
        slow.release()
        cases.stop()
        hooks.stop()
    drop_other_connections()
    assert slow.most_at_once == 1
    assert len(slow.requests) == 4
    assert len({{k.lower(): v for k, v in h.items()}["webhook-id"] for h, _ in slow.requests}) == 4
    assert set(WebhookDelivery.objects.filter(endpoint__partner=a).values_list("attempts", flat=True)) == {1}
    assert "route_case[" not in hooks.log.read_text() and "deliver_webhook[" not in cases.log.read_text()
    assert "deliver_webhook[" in hooks.log.read_text() and "route_case[" in cases.log.read_text()


@pytest.mark.django_db
def test_an_endpoint_over_its_limit_waits_without_losing_an_attempt(client, seeded, fast, settings):
    settings.INTAKE_WEBHOOK_MAX_IN_FLIGHT = 1
    partner = make_partner("Northside Family Practice")
    services.webhook_endpoint_create(partner=partner, url=fast.url)
    full = make_key(partner)[1]
    for i in range(2):
        case_route(case_id=_refer(client, full, i).pk)
    services.webhook_deliveries_collect()
    first, second = WebhookDelivery.objects.order_by("pk")
    # Being sent by another worker.
    WebhookDelivery.objects.filter(pk=first.pk).update(state="sending", claimed_at=timezone.now())
    with pytest.raises(services.EndpointBusy) as busy:
        services.webhook_delivery_send(delivery_id=second.pk)
    assert 0 < busy.value.retry_after <= 7.5
    second.refresh_from_db()
    assert (second.state, second.attempts) == ("pending", 0) and fast.requests == []
    # A claim older than a task may run is a dead worker's: no longer in flight.
    WebhookDelivery.objects.filter(pk=first.pk).update(claimed_at=timezone.now() - timedelta(minutes=2))
    assert services.webhook_delivery_send(delivery_id=second.pk) is True


@pytest.mark.django_db
def test_one_deadline_for_the_whole_attempt_even_against_a_dripping_answer(client, seeded, settings):
    """Each byte of the answer comes quickly, the whole answer takes half a
    minute: the attempt ends at the deadline, not when the server is done."""
    settings.INTAKE_WEBHOOK_TIMEOUT = 1.0
    drip = DripReceiver()
    try:
        partner = make_partner("Northside Family Practice")
        services.webhook_endpoint_create(partner=partner, url=drip.url)
        case_route(case_id=_refer(client, make_key(partner)[1], 0).pk)
        services.webhook_deliveries_collect()
        d = WebhookDelivery.objects.get()
        assert services.webhook_delivery_send(delivery_id=d.pk) is False
        assert drip.started.is_set() and not drip.finished.is_set()
        d.refresh_from_db()
        assert (d.state, d.last_error) == ("pending", "could not deliver")
    finally:
        drip.close()


def test_deliveries_default_to_a_short_deadline_and_their_own_queue():
    from django.conf import settings

    from clinic.celery import app

    assert settings.INTAKE_WEBHOOK_TIMEOUT <= 5
    for task in ("partners.tasks.deliver_webhook", "partners.tasks.sweep_webhooks"):
        assert app.amqp.router.route({}, task, (), {})["queue"].name == "webhooks"
    assert services.CELERY_WEBHOOKS == "webhooks"


def test_make_run_and_the_load_test_start_a_worker_for_the_webhooks_queue():
    """`make run` (and so `make soak`) and `make loadtest` consume the queue."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("supervise", ROOT / "scripts" / "supervise.py")
    supervise = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("supervise", supervise)  # its dataclasses look their module up
    spec.loader.exec_module(supervise)
    consumed = [p.argv[p.argv.index("-Q") + 1] for p in supervise.default_procs(8000, sys.executable) if "-Q" in p.argv]
    assert sorted(q for queues in consumed for q in queues.split(",")) == ["routine", "urgent", "webhooks"]
    assert '"webhooks", env' in (ROOT / "bench" / "loadtest.py").read_text()


@pytest.mark.django_db
def test_a_delivery_sent_hands_the_endpoint_to_the_next_one_waiting_at_once(client, seeded, fast, monkeypatch):
    """A burst to a fast endpoint: the delivery waiting its turn (EndpointBusy,
    a few seconds' wait) is enqueued the moment the one in flight is answered."""
    partner = make_partner("Northside Family Practice")
    services.webhook_endpoint_create(partner=partner, url=fast.url)
    full = make_key(partner)[1]
    for i in range(3):
        case_route(case_id=_refer(client, full, i).pk)
    services.webhook_deliveries_collect()
    first, second, third = WebhookDelivery.objects.order_by("pk")
    enqueued = []
    real_enqueue = services.enqueue_now

    def spy(task, *args, **kwargs):
        enqueued.append((task.name, args))
        return real_enqueue(task, *args, **kwargs)

    monkeypatch.setattr(services, "enqueue_now", spy)
    purge_webhooks_queue()
    try:
        assert services.webhook_delivery_send(delivery_id=first.pk) is True
        assert enqueued == [("partners.tasks.deliver_webhook", (second.pk,))]  # the oldest waiting, only
        # One waiting out a backoff after a failed try is not its turn yet: the next due one is.
        WebhookDelivery.objects.filter(pk=third.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
        enqueued.clear()
        assert services.webhook_delivery_send(delivery_id=second.pk) is True
        assert enqueued == []
    finally:
        purge_webhooks_queue()
