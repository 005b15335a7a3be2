"""Webhooks by the Standard Webhooks specification, within a second (issue 28, point 4).

Every signature here is checked by the ``standardwebhooks`` library (the
specification's own Python package) and by the receivers docs/partners.md
gives partners, the JavaScript one run by node, against a real HTTP server
receiving real deliveries."""

import json
import re
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from intake.models import ReviewRequest
from intake.services.lifecycle import case_transition
from intake.services.routing import case_route
from partners import keys, services
from partners.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import drop_other_connections, purge_broker
from tests.intake.helpers import wait_for
from tests.support.processes import CeleryWorker

from .conftest import REFERRAL, auth, make_key, make_partner
from .webhook_support import Receiver, purge_webhooks_queue

DOCS = Path(__file__).resolve().parents[2] / "docs" / "partners.md"


def _docs_block(lang: str, marker: str) -> str:
    blocks = [b for b in re.findall(rf"```{lang}\n(.*?)```", DOCS.read_text(), re.S) if marker in b]
    assert len(blocks) == 1, f"one {lang} block with {marker!r} in docs/partners.md"
    return blocks[0]


def _docs_python(marker: str, name: str):
    namespace = {"__name__": "docs_snippet"}
    exec(_docs_block("python", marker), namespace)  # noqa: S102  (our own documentation's snippet)
    return namespace[name]


def _lower(headers: dict) -> dict:
    return {k.lower(): v for k, v in headers.items()}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _refer(client, full, i=0):
    body = {**REFERRAL, "email": f"patient{i}@example.com"}
    response = client.post("/api/v1/referrals/", body, content_type="application/json", **auth(full))
    assert response.status_code == 201
    return ReviewRequest.objects.get(reference=response.json()["reference"])


def _send_all():
    for d in WebhookDelivery.objects.filter(state="pending").order_by("pk"):
        services.webhook_delivery_send(delivery_id=d.pk)


def test_new_secrets_are_standard_and_the_old_ones_are_not():
    secret = keys.webhook_secret_new()
    assert secret.startswith("whsec_") and keys.is_standard_secret(secret)
    Webhook(secret)  # the library takes it as it is
    old = "whsec_" + "a-b_" * 10 + "xyz"  # the old scheme's shape: 43 URL-safe characters
    assert not keys.is_standard_secret(old)


def test_a_delivery_is_signed_by_the_standard_and_verified_by_the_library(db, seeded, client, receiver):
    partner = make_partner("Northside Family Practice")
    endpoint, secret = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    assert endpoint.signing == WebhookEndpoint.Signing.STANDARD
    case_route(case_id=_refer(client, make_key(partner)[1]).pk)
    services.webhook_deliveries_collect()
    _send_all()
    ((headers, body),) = receiver.requests
    h = _lower(headers)
    payload = Webhook(secret).verify(body, headers)
    assert payload["stage"]["key"] == "triage" and h["webhook-id"] == payload["id"]
    assert abs(int(h["webhook-timestamp"]) - time.time()) < 60
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", h["webhook-signature"])  # one secret: one signature
    assert "x-clinic-signature" not in h
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"triage", b"closed"), headers)  # a changed body is refused
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-timestamp": str(int(time.time()) - 3600)})


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new(db, seeded, client, receiver):
    partner = make_partner("Northside Family Practice")
    endpoint, old = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    full = make_key(partner)[1]
    new = services.webhook_secret_rotate(endpoint=endpoint)
    assert new != old and keys.is_standard_secret(new)
    case = _refer(client, full, 1)
    case_route(case_id=case.pk)
    services.webhook_deliveries_collect()
    _send_all()
    headers, body = receiver.requests[-1]
    signatures = _lower(headers)["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    docs_verify = _docs_python("def verify(", "verify")
    for secret in (old, new):  # a receiver holding either secret accepts it
        assert Webhook(secret).verify(body, headers)["reference"] == case.reference
        assert docs_verify(secret, headers, body)

    services.webhook_rotation_end(endpoint=endpoint)
    case_transition(case_id=case.pk, to_status="awaiting_mri")
    services.webhook_deliveries_collect()
    _send_all()
    headers, body = receiver.requests[-1]
    assert len(_lower(headers)["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(body, headers)["stage"]["key"] == "awaiting_mri"
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
    assert not docs_verify(old, headers, body)


def test_the_old_secret_stops_signing_when_the_overlap_ends(db, seeded):
    partner = make_partner("Northside Family Practice")
    endpoint, old = services.webhook_endpoint_create(partner=partner, url="https://partner.example/hook")
    new = services.webhook_secret_rotate(endpoint=endpoint, overlap=timedelta(days=7))
    endpoint.refresh_from_db()
    assert endpoint.signing_secrets() == [new, old]
    assert endpoint.signing_secrets(timezone.now() + timedelta(days=7, seconds=1)) == [new]


def test_an_old_scheme_endpoint_keeps_its_signature_until_it_moves_then_gets_both(db, seeded, client, receiver):
    """An endpoint made before the standard is signed as before; rotating its
    secret moves it to the standard, and during the overlap its old receiver
    (the docs' old check, old secret) and a new one (the library, new secret)
    both accept the same delivery."""
    partner = make_partner("Northside Family Practice")
    endpoint, _ = services.webhook_endpoint_create(
        partner=partner, url=receiver.url, signing=WebhookEndpoint.Signing.CLINIC_V1
    )
    old = "whsec_" + "Zq-9_" * 8 + "abc"  # a secret as the old scheme made them
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=old)
    endpoint.refresh_from_db()
    verify_old = _docs_python("def verify_old_scheme(", "verify_old_scheme")
    full = make_key(partner)[1]
    case = _refer(client, full)
    case_route(case_id=case.pk)
    services.webhook_deliveries_collect()
    _send_all()
    headers, body = receiver.requests[-1]
    h = _lower(headers)
    assert verify_old(old, h["x-clinic-signature"], body) and h["x-clinic-event-id"] == json.loads(body)["id"]
    assert "webhook-signature" not in h

    new = services.webhook_secret_rotate(endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.signing == WebhookEndpoint.Signing.STANDARD
    case_transition(case_id=case.pk, to_status="awaiting_mri")
    services.webhook_deliveries_collect()
    _send_all()
    headers, body = receiver.requests[-1]
    h = _lower(headers)
    assert Webhook(new).verify(body, headers)["stage"]["key"] == "awaiting_mri"
    assert len(h["webhook-signature"].split(" ")) == 1  # the old secret is no standard key: not used there
    assert verify_old(old, h["x-clinic-signature"], body)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_docs_javascript_receiver_verifies_a_real_delivery(db, seeded, client, receiver, tmp_path):
    partner = make_partner("Northside Family Practice")
    endpoint, old = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    new = services.webhook_secret_rotate(endpoint=endpoint)
    case_route(case_id=_refer(client, make_key(partner)[1]).pk)
    services.webhook_deliveries_collect()
    _send_all()
    headers, body = receiver.requests[-1]
    (tmp_path / "receiver.js").write_text(_docs_block("js", "function verify("))
    (tmp_path / "check.js").write_text(
        "const { verify } = require('./receiver.js');\n"
        "const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));\n"
        "const headers = Object.fromEntries(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v]));\n"
        "const body = Buffer.from(input.body, 'base64');\n"
        "console.log(JSON.stringify(input.secrets.map((s) => verify(s, headers, body))));\n"
    )
    import base64

    def run(secrets, body_bytes):
        out = subprocess.run(  # noqa: S603  (node with our own files)
            ["node", str(tmp_path / "check.js")],  # noqa: S607
            input=json.dumps({"headers": headers, "body": base64.b64encode(body_bytes).decode(), "secrets": secrets}),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(out.stdout)

    assert run([old, new, keys.webhook_secret_new()], body) == [True, True, False]
    assert run([new], body.replace(b"triage", b"closed")) == [False]


@pytest.mark.worker
def test_a_stage_change_reaches_the_partner_within_a_second_without_the_sweep(seeded_tx, client, receiver, tmp_path):
    """A real worker on the ``webhooks`` queue and no sweep at all: the
    delivery is enqueued when the routing commits. Then the sweep runs (as beat
    would) and nothing is sent twice."""
    partner = make_partner("Northside Family Practice")
    endpoint, secret = services.webhook_endpoint_create(partner=partner, url=receiver.url)
    full = make_key(partner)[1]
    purge_broker()
    purge_webhooks_queue()
    hooks = CeleryWorker(tmp_path / "hooks.log", queues="webhooks", concurrency=1, name="hooks-std")
    try:
        wait_for(hooks.ready, timeout=90)
        case = _refer(client, full)
        purge_broker()  # its routing message: routed here, in the test's process
        latencies = []
        for to_status in (None, "awaiting_mri"):
            seen = len(receiver.requests)
            start = time.monotonic()
            if to_status is None:
                case_route(case_id=case.pk)
            else:
                case_transition(case_id=case.pk, to_status=to_status)
            wait_for(lambda n=seen: len(receiver.requests) > n, timeout=20)
            latencies.append(time.monotonic() - start)
        services.webhooks_sweep()
        services.webhooks_sweep()
        time.sleep(1.5)
    finally:
        hooks.stop()
    drop_other_connections()
    # Under a second each on an idle machine; the bound leaves room for 7 engineers' tests on 2 cores.
    assert max(latencies) < 3, latencies
    assert len(receiver.requests) == 2
    stages = [Webhook(secret).verify(b, h)["stage"]["key"] for h, b in receiver.requests]
    assert stages == ["triage", "awaiting_mri"]
    assert set(WebhookDelivery.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_existing_endpoints_keep_the_old_scheme_and_new_ones_get_the_standard(transactional_db):
    executor = MigrationExecutor(connection)
    before, after = [("partners", "0004_fhir_documents")], [("partners", "0005_webhook_signing")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    Partner = old_apps.get_model("partners", "Partner")
    Endpoint = old_apps.get_model("partners", "WebhookEndpoint")
    p = Partner.objects.create(name="Before the standard")
    made_before = Endpoint.objects.create(partner=p, url="https://partner.example/hook", secret="whsec_x")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new_apps = executor.loader.project_state(after).apps
    Endpoint = new_apps.get_model("partners", "WebhookEndpoint")
    assert Endpoint.objects.get(pk=made_before.pk).signing == "clinic_v1"
    assert Endpoint.objects.create(partner_id=p.pk, url="https://partner.example/new", secret="s").signing == "standard"
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_a_supervisor_makes_a_standard_endpoint_rotates_its_secret_and_ends_the_rotation(client, seeded):
    from django.contrib.auth.models import Group

    from partners.seed import seed_partner_permissions
    from tests.factories import UserFactory

    seed_partner_permissions()
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    client.force_login(supervisor)
    partner = make_partner("Northside Family Practice")
    response = client.post(
        "/admin/partners/webhookendpoint/add/",
        {"partner": partner.pk, "url": "https://partner.example/hook", "signing": "standard", "is_active": "on"},
        follow=True,
    )
    first = response.context["shown_once"]["value"]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.signing == "standard" and endpoint.secret == first and keys.is_standard_secret(first)

    response = client.post(
        "/admin/partners/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
        follow=True,
    )
    second = response.context["shown_once"]["value"]
    endpoint.refresh_from_db()
    assert second == endpoint.secret != first and endpoint.signing_secrets() == [second, first]
    assert first not in client.get(f"/admin/partners/webhookendpoint/{endpoint.pk}/change/").content.decode()

    client.post("/admin/partners/webhookendpoint/", {"action": "end_rotation", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.signing_secrets() == [second] and endpoint.previous_secret == ""
