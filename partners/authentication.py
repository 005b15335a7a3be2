"""``Authorization: Bearer ck_<prefix>_<secret>`` for DRF."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .keys import key_split, secret_matches
from .models import ApiKey


class PartnerClient:
    """The caller behind a key. Not a Django user: it can sign in nowhere else,
    and the audit trail records it by partner and key prefix."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: ApiKey):
        self.key = key
        self.partner = key.partner

    def __str__(self):
        return f"partner #{self.partner.pk} key {self.key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not raw.strip():
            raise exceptions.AuthenticationFailed("Send the key as: Authorization: Bearer <key>.")
        parts = key_split(raw.strip())
        # One message for every failure: a caller learns nothing about which part was wrong.
        refused = exceptions.AuthenticationFailed("This API key is not valid, has expired or was revoked.")
        if parts is None:
            raise refused
        prefix, secret = parts
        key = ApiKey.objects.select_related("partner").filter(prefix=prefix).first()
        now = timezone.now()
        if key is None or not secret_matches(secret, key.secret_hash) or not key.is_usable(now):
            raise refused
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)  # at most a write a minute per key
        return PartnerClient(key), key

    def authenticate_header(self, request):
        return self.keyword


class HasScope:
    """``required_scope`` on the view; 403 when the key lacks it."""

    message = "This API key does not have the scope this request needs."

    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated("Send an API key: Authorization: Bearer <key>.")
        needed = getattr(view, "required_scope", None)
        return needed is None or needed in (key.scopes or [])

    def has_object_permission(self, request, view, obj):
        return True


class ApiKeySchemeExtension(OpenApiAuthenticationExtension):
    """The key in the schema, so schemathesis and partners' tools send it."""

    target_class = "partners.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer ck_<prefix>_<secret>"}
