"""The real client address behind trusted proxies: the rule, and every place
that uses it (rate limits, consent record, django-axes, audit trail)."""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from clinic.client_ip import ClientIPMiddleware, client_ip, resolve_client_ip
from clinic.models import AuditEntry
from intake.models import ReviewRequest
from tests.factories import UserFactory
from tests.intake.helpers import submit_complete

PROXY = "10.0.0.5"  # the load balancer, inside the trusted network
TRUSTED = ["10.0.0.0/8"]


def nets(*specs):
    return [ipaddress.ip_network(s) for s in specs]


@pytest.mark.parametrize(
    ("meta", "networks", "count", "expected"),
    [
        # Nothing trusted (the default): the header is ignored, whatever it says.
        ({"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.1"}, (), 0, "198.51.100.7"),
        # One trusted proxy: the address it saw is the client.
        ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.1"}, nets(*TRUSTED), 0, "203.0.113.1"),
        # A client's forged entries sit to the left of the proxy's and are skipped.
        ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.1"}, nets(*TRUSTED), 0, "203.0.113.1"),
        # Two trusted hops (balancer, then nginx): walk past both.
        (
            {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.1, 10.9.9.9"},
            nets(*TRUSTED),
            0,
            "203.0.113.1",
        ),
        # A direct request from outside the trusted network: its header means nothing.
        ({"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.1"}, nets(*TRUSTED), 0, "198.51.100.7"),
        # By count: one proxy whose address is not known in advance.
        ({"REMOTE_ADDR": "172.31.4.4", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.1"}, (), 1, "203.0.113.1"),
        (
            {"REMOTE_ADDR": "172.31.4.4", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.1, 172.31.9.9"},
            (),
            2,
            "203.0.113.1",
        ),
        # Fewer entries than proxies: the left-most one there is.
        ({"REMOTE_ADDR": "172.31.4.4", "HTTP_X_FORWARDED_FOR": "203.0.113.1"}, (), 3, "203.0.113.1"),
        # No header behind a trusted proxy: the proxy is all we know.
        ({"REMOTE_ADDR": PROXY}, nets(*TRUSTED), 0, PROXY),
        # A malformed entry stops the walk at the last trusted hop.
        ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.1, not-an-ip"}, nets(*TRUSTED), 0, PROXY),
        # Ports and brackets as some balancers write them; IPv4-mapped IPv6.
        ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.1:51234"}, nets(*TRUSTED), 0, "203.0.113.1"),
        ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "[2001:db8::7]:443"}, nets(*TRUSTED), 0, "2001:db8::7"),
        ({"REMOTE_ADDR": "::ffff:10.0.0.5", "HTTP_X_FORWARDED_FOR": "2001:db8::7"}, nets(*TRUSTED), 0, "2001:db8::7"),
        ({"REMOTE_ADDR": "fd00::1", "HTTP_X_FORWARDED_FOR": "2001:db8::7"}, nets("fd00::/8"), 0, "2001:db8::7"),
        # No usable REMOTE_ADDR at all.
        ({"REMOTE_ADDR": ""}, (), 0, None),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(meta, networks, count, expected):
    assert resolve_client_ip(meta, trusted_networks=networks, trusted_count=count) == expected


def test_a_malformed_network_stops_start_up(settings):
    settings.INTAKE_TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="INTAKE_TRUSTED_PROXIES"):
        ClientIPMiddleware(lambda request: None)


def test_worked_out_once_per_request(rf, settings):
    settings.INTAKE_TRUSTED_PROXIES = TRUSTED
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.1")
    seen = []
    ClientIPMiddleware(lambda r: seen.append(r.client_ip))(request)
    assert seen == ["203.0.113.1"]
    request.META["HTTP_X_FORWARDED_FOR"] = "203.0.113.99"  # later readers use the stored answer
    assert client_ip(request) == "203.0.113.1"


def behind_proxy(address):
    """A browser at ``address`` reaching the site through the trusted balancer."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)


@pytest.mark.django_db
def test_two_patients_behind_one_trusted_proxy_get_separate_limits(settings):
    settings.INTAKE_TRUSTED_PROXIES = TRUSTED
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 1
    url = reverse("intake:status", args=["no-such-token"])
    alice, bob = behind_proxy("203.0.113.1"), behind_proxy("203.0.113.2")
    assert alice.get(url).status_code == 404
    assert alice.get(url).status_code == 429  # Alice used her one look-up
    assert bob.get(url).status_code == 404  # Bob has his own


@pytest.mark.django_db
@pytest.mark.parametrize("trusted", [[], TRUSTED], ids=["nothing-trusted", "client-outside-trusted-network"])
def test_a_forwarded_for_header_from_an_untrusted_client_is_ignored(settings, trusted):
    settings.INTAKE_TRUSTED_PROXIES = trusted
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 1
    url = reverse("intake:status", args=["no-such-token"])
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 404
    # A new forged address each time does not buy a new bucket.
    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429


@pytest.mark.django_db
def test_thirty_patients_behind_one_trusted_proxy_can_each_submit(seeded, settings):
    settings.INTAKE_TRUSTED_PROXIES = TRUSTED
    settings.INTAKE_SUBMIT_LIMIT_PER_HOUR = 1  # one shared bucket would stop the second patient
    addresses = [f"203.0.113.{i}" for i in range(1, 31)]
    for n, address in enumerate(addresses):
        response = submit_complete(behind_proxy(address), contact={"email": f"patient{n}@example.com"})
        assert response.status_code == 302 and response.url == reverse("intake:submitted"), (n, response.status_code)
    # The consent record holds each patient's own address, not the balancer's.
    assert sorted(ReviewRequest.objects.values_list("consent_ip", flat=True)) == sorted(addresses)
    # The limit was live all along: the first patient's second request is refused.
    again = submit_complete(behind_proxy(addresses[0]), contact={"email": "again@example.com"})
    assert again.status_code == 429
    assert ReviewRequest.objects.count() == 30


@pytest.mark.django_db
def test_axes_locks_out_the_real_address_not_the_balancer(settings):
    settings.INTAKE_TRUSTED_PROXIES = TRUSTED
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(is_superuser=True, username="coordinator9")
    attacker, colleague = behind_proxy("203.0.113.66"), behind_proxy("203.0.113.10")
    for _ in range(3):
        attacker.post("/admin/login/", {"username": "coordinator9", "password": "wrong"})
    locked = attacker.post("/admin/login/", {"username": "coordinator9", "password": "pw-for-tests-123"})
    assert locked.status_code == 429
    signed_in = colleague.post("/admin/login/", {"username": "coordinator9", "password": "pw-for-tests-123"})
    assert signed_in.status_code == 302  # the same account from another address still signs in

    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}


@pytest.mark.django_db
def test_the_audit_trail_records_the_real_address(settings):
    settings.INTAKE_TRUSTED_PROXIES = TRUSTED
    UserFactory(is_superuser=True, username="auditme")
    client = behind_proxy("203.0.113.44")
    client.post("/admin/login/", {"username": "auditme", "password": "wrong"})
    client.post("/admin/login/", {"username": "auditme", "password": "pw-for-tests-123"})
    entries = AuditEntry.objects.filter(action__in=["login", "login_failed"])
    assert {e.ip for e in entries} == {"203.0.113.44"}
    assert entries.count() == 2
