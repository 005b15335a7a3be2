"""Third review, low: a new API key and a webhook signing secret travelled back
to the browser in the signed but readable ``messages`` cookie. Now each is kept
server-side (the session, read and deleted) for the one page the supervisor
lands on after making it: no response cookie carries it, the page shows it
once, and a reload does not."""

import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory

from partners.models import ApiKey, WebhookEndpoint
from partners.seed import seed_partner_permissions
from tests.factories import UserFactory
from tests.partners.conftest import auth, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client, seeded):
    seed_partner_permissions()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Supervisor"))
    client.force_login(user)
    return client


def _cookies(response) -> str:
    """Every cookie the response sets, the messages cookie decoded as a reader would."""
    texts = [f"{name}={morsel.value}" for name, morsel in response.cookies.items()]
    if "messages" in response.cookies:
        decoded = CookieStorage(RequestFactory().get("/"))._decode(response.cookies["messages"].value) or []
        texts += [str(m) for m in decoded]
    return " ".join(texts)


def _shown_once(client, add_url, data, secret_of, marker):
    posted = client.post(add_url, data)
    assert posted.status_code == 302
    assert not re.search(marker, _cookies(posted))
    page = client.get(posted["Location"])
    assert page.status_code == 200
    secret = secret_of(page.content.decode())
    assert secret and page.content.decode().count(secret) == 1
    for response in (posted, page):
        assert secret not in _cookies(response)
        # Not even signed or encoded: the messages cookie carries no part of it.
        assert secret.split("_")[-1][:20] not in _cookies(response)
    assert "no-store" in page["Cache-Control"]
    reload = client.get(posted["Location"])
    assert reload.status_code == 200 and secret not in reload.content.decode()
    return secret


def _word(html, start):
    i = html.index("<code>" + start) + len("<code>")
    return html[i : html.index("</code>", i)]


def test_a_new_api_key_is_shown_once_in_the_page_never_in_a_cookie(supervisor_client):
    partner = make_partner("Northside Family Practice")
    full = _shown_once(
        supervisor_client,
        "/admin/partners/apikey/add/",
        {"partner": partner.pk, "name": "production", "scopes": ["referrals:read"], "days": 30},
        lambda html: _word(html, "ck_"),
        r"ck_[0-9a-f]{8}_[\w-]{20}",
    )
    key = ApiKey.objects.get()
    assert full.split("_")[1] == key.prefix
    assert supervisor_client.get("/api/v1/referrals/", **auth(full)).status_code == 200


def test_a_new_signing_secret_is_shown_once_in_the_page_never_in_a_cookie(supervisor_client):
    partner = make_partner("Northside Family Practice")
    secret = _shown_once(
        supervisor_client,
        "/admin/partners/webhookendpoint/add/",
        {"partner": partner.pk, "url": "https://hooks.example.com/clinic", "signing": "standard", "is_active": "on"},
        lambda html: _word(html, "whsec_"),
        r"whsec_[A-Za-z0-9+/=_-]{20}",  # Standard Webhooks: base64 after the prefix
    )
    assert WebhookEndpoint.objects.get().secret == secret
