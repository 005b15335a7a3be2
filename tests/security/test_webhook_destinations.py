"""Finding: webhook URLs reached inside the network (issue 22, point 1).

A supervisor could register http://127.0.0.1:6379/, http://[::1]/,
https://169.254.169.254/..., https://10.0.0.1/, also under the production
settings; names were never resolved and checked; the admin showed each
attempt's status or error, telling open ports from closed ones.

Now: registration (model, admin, command) refuses internal addresses and, in
production, plain http; at send time the name is resolved once, every address
checked, and the connection goes to the checked address; every failed attempt
reads "could not deliver". A test resolver stands in for DNS (no outside lookup).
"""

import logging
import socket
import threading
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from intake.models import ReviewRequest
from intake.services.routing import case_route
from partners import safehttp, services
from partners.models import ApiKey, Partner, WebhookDelivery, WebhookEndpoint
from partners.seed import seed_partner_permissions
from tests.factories import UserFactory
from tests.partners.conftest import REFERRAL, auth, make_key, make_partner
from tests.partners.webhook_support import TEST_NAMES, NameResolver, Receiver

INTERNAL_URLS = [
    "http://127.0.0.1:6379/",
    "http://localhost:8000/hook",
    "http://[::1]/",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/",
    "https://[fd00::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://2130706433/",  # 127.0.0.1 written as one number
    "https://redis:6379/",  # one label: the server's own search domain
    "https://db.internal/hook",
    "https://100.64.0.1/",
    "https://[fe80::1]/",
    "https://224.0.0.1/",
    "https://0.0.0.0/",
]


@pytest.fixture
def production_rule(settings):
    settings.INTAKE_WEBHOOK_ALLOW_LOOPBACK = False  # as clinic/settings/production.py sets it


@pytest.fixture
def resolver(monkeypatch):
    r = NameResolver()
    monkeypatch.setattr(safehttp, "getaddrinfo", r)
    return r


@pytest.fixture
def connections(monkeypatch):
    """Every connection the client opens, and where to; refused (no real outside host)."""
    opened = []
    real = socket.create_connection

    def connect(address, *args, **kwargs):
        opened.append(address[:2])
        if address[0] in ("127.0.0.1", "::1"):
            return real(address, *args, **kwargs)
        raise ConnectionRefusedError("test: nothing outside the machine is reached")

    monkeypatch.setattr(socket, "create_connection", connect)
    return opened


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*INTERNAL_URLS, "http://partner.example/hook"])
def test_registration_refuses_internal_addresses_and_plain_http_in_production(production_rule, url):
    partner = make_partner("Northside Family Practice")
    with pytest.raises(ValidationError) as refused:
        services.webhook_endpoint_create(partner=partner, url=url)
    assert "https://" in " ".join(refused.value.message_dict["url"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_public_https_address_is_accepted_in_production(production_rule):
    partner = make_partner("Northside Family Practice")
    assert services.webhook_endpoint_create(partner=partner, url="https://hooks.partner.example/clinic")[0].pk


@pytest.mark.django_db
def test_development_allows_http_to_this_machine_only(settings):
    settings.INTAKE_WEBHOOK_ALLOW_LOOPBACK = True
    partner = make_partner("Northside Family Practice")
    assert services.webhook_endpoint_create(partner=partner, url="http://127.0.0.1:9000/hook")[0].pk
    for url in ("https://169.254.169.254/", "https://10.0.0.1/", "http://partner.example/hook"):
        with pytest.raises(ValidationError):
            services.webhook_endpoint_create(partner=partner, url=url)


@pytest.mark.django_db
def test_the_production_settings_switch_loopback_off():
    # Read from the module itself: the test settings leave it on for the local receivers.
    import ast
    from pathlib import Path

    import clinic.settings

    source = (Path(clinic.settings.__file__).parent / "production.py").read_text()
    assigned = [
        node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "INTAKE_WEBHOOK_ALLOW_LOOPBACK"
    ]
    assert assigned == [False]


@pytest.mark.django_db
def test_the_command_refuses_an_internal_url_and_makes_no_key(production_rule):
    with pytest.raises(CommandError) as refused:
        call_command("partner_key", "Acme", "--webhook-url", "http://127.0.0.1:6379/", stdout=StringIO())
    assert "inside the clinic's own network" in str(refused.value)
    assert not ApiKey.objects.exists() and not WebhookEndpoint.objects.exists() and not Partner.objects.exists()


@pytest.mark.django_db
def test_the_admin_refuses_an_internal_url(client, seeded, production_rule):
    seed_partner_permissions()
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    partner = make_partner("Northside Family Practice")
    client.force_login(supervisor)
    response = client.post(
        "/admin/partners/webhookendpoint/add/",
        {"partner": partner.pk, "url": "https://169.254.169.254/latest/meta-data/", "is_active": "on"},
    )
    assert response.status_code == 200  # the form again, with the reason
    assert "inside the clinic&#x27;s own network" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def _delivery_to(client, url, partner_name="Northside Family Practice"):
    """A pending delivery to ``url``, the endpoint's row written directly: the
    name may have resolved elsewhere when it was registered (DNS changes)."""
    partner = make_partner(partner_name)
    endpoint = WebhookEndpoint.objects.create(partner=partner, url=url, secret="whsec_test")
    full = make_key(partner)[1]
    ref = client.post("/api/v1/referrals/", REFERRAL, content_type="application/json", **auth(full)).json()["reference"]
    case_route(case_id=ReviewRequest.objects.get(reference=ref).pk)
    services.webhook_deliveries_collect()
    return WebhookDelivery.objects.get(endpoint=endpoint)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n in TEST_NAMES if n != "public.partner.test"))
def test_a_name_resolving_inside_is_refused_before_connecting(
    client, seeded, production_rule, resolver, connections, receiver, name
):
    d = _delivery_to(client, f"https://{name}:{receiver.port}/hooks/clinic")
    assert services.webhook_delivery_send(delivery_id=d.pk) is False
    assert resolver.lookups == [name]
    assert connections == [] and receiver.requests == []
    d.refresh_from_db()
    assert (d.state, d.last_status_code, d.last_error) == ("pending", None, "could not deliver")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["metadata.partner.test", "mapped.partner.test", "ula.partner.test"])
def test_development_settings_still_refuse_names_resolving_to_private_addresses(
    client, seeded, settings, resolver, connections, name
):
    settings.INTAKE_WEBHOOK_ALLOW_LOOPBACK = True
    d = _delivery_to(client, f"https://{name}/hooks/clinic")
    assert services.webhook_delivery_send(delivery_id=d.pk) is False
    assert connections == []


@pytest.mark.django_db
def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    client, seeded, settings, resolver, connections, receiver
):
    """Development: a name for this machine reaches the local receiver; the
    request carries the name, the socket went to the address resolved once."""
    settings.INTAKE_WEBHOOK_ALLOW_LOOPBACK = True
    d = _delivery_to(client, f"http://loopback.partner.test:{receiver.port}/hooks/clinic")
    assert services.webhook_delivery_send(delivery_id=d.pk) is True
    assert resolver.lookups == ["loopback.partner.test"]
    assert connections == [("127.0.0.1", receiver.port)]
    headers, _ = receiver.requests[0]
    assert headers["Host"] == f"loopback.partner.test:{receiver.port}"


@pytest.mark.django_db
def test_a_name_that_rebinds_after_the_check_is_not_looked_up_again(
    client, seeded, production_rule, monkeypatch, connections
):
    """First answer public, any later one loopback: one lookup, and the
    connection goes to the public address that was checked."""
    resolver = NameResolver(answers=[["93.184.215.14"], ["127.0.0.1"], ["127.0.0.1"]])
    monkeypatch.setattr(safehttp, "getaddrinfo", resolver)
    d = _delivery_to(client, "https://rebind.partner.test/hooks/clinic")
    assert services.webhook_delivery_send(delivery_id=d.pk) is False  # refused by the test's "outside"
    assert resolver.lookups == ["rebind.partner.test"]
    assert connections == [("93.184.215.14", 443)]


@pytest.mark.django_db
def test_every_failed_attempt_reads_the_same_in_the_admin(client, seeded, settings, resolver, receiver, caplog):
    """A closed port, an open one answering 500 and an address refused before
    connecting: the same row and page for the supervisor; the cause only in
    the server's log."""
    settings.INTAKE_WEBHOOK_ALLOW_LOOPBACK = True
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    receiver.status = 500
    urls = {
        "closed": f"http://127.0.0.1:{closed_port}/hook",
        "500": receiver.url,
        "refused": "https://metadata.partner.test/latest/meta-data/",
    }
    deliveries = {k: _delivery_to(client, url, partner_name=k) for k, url in urls.items()}
    with caplog.at_level(logging.INFO, logger="partners.services"):
        for d in deliveries.values():
            assert services.webhook_delivery_send(delivery_id=d.pk) is False
    seen = set()
    for d in deliveries.values():
        d.refresh_from_db()
        seen.add((d.state, d.attempts, d.last_status_code, d.last_error))
    assert seen == {("pending", 1, None, "could not deliver")}
    log = caplog.text
    assert "ConnectionRefusedError" in log and "HTTP 500" in log and "169.254.169.254" in log

    seed_partner_permissions()
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    client.force_login(supervisor)
    listing = client.get("/admin/partners/webhookdelivery/").content.decode()
    assert listing.count("could not deliver") == 3
    for d in deliveries.values():
        page = client.get(f"/admin/partners/webhookdelivery/{d.pk}/change/").content.decode()
        assert "could not deliver" in page
        for detail in ("HTTP 500", "ConnectionRefused", "169.254", "Timeout", "answered"):
            assert detail not in page


def test_a_name_lookup_that_never_answers_is_cut_off_at_the_deadline(monkeypatch):
    """A resolver that hangs (a DNS server dropping packets) cannot hold a
    webhook worker past the send's deadline: the lookup counts against it."""
    release = threading.Event()
    looked_up = []

    def hanging_resolver(host, port, *args, **kwargs):
        looked_up.append(host)
        release.wait(30)
        raise OSError("gave up")

    monkeypatch.setattr(safehttp, "getaddrinfo", hanging_resolver)
    outcome = []

    def send():
        try:
            safehttp.post("https://slow-dns.partner.test/hook", b"{}", {}, timeout=0.5, allow_loopback=False)
        except Exception as exc:  # noqa: BLE001  (the outcome is what the test checks)
            outcome.append(exc)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(10)  # without the bound, the send waits for the resolver (30 s here)
    try:
        assert not sender.is_alive(), "the send waited for the name lookup past its deadline"
        assert looked_up == ["slow-dns.partner.test"]
        [exc] = outcome
        assert isinstance(exc, TimeoutError) and "did not resolve within 0.5 s" in str(exc)
    finally:
        release.set()
