"""The consent JSON API: the banner's state and choices, the opposition check, card withdrawal.

- GET/POST /api/v1/consent/: public, called by banner.js on every page view (and by Okasio's
  own site, which embeds the banner with one script tag; CONSENT_EMBED_ORIGINS may call it).
- POST /api/v1/opposition/check: Okasio's platform only (a service token, B11).
- POST /api/v1/saved-cards/withdraw: Okasio's platform only (C10).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.hashing import normalise_email
from people.models import SavedCard

from . import banner, services
from .models import COOKIE_PURPOSES, ConsentSource

OPPOSITION_CHECK_MAX_BATCH = 1000

# --- Service tokens -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceClient:
    """Okasio's platform, authenticated by a service token: not a person, not staff."""

    setting: str
    is_authenticated: bool = True


class ServiceTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`, compared in constant time with every configured token."""

    setting = ""

    def authenticate(self, request: Request) -> tuple[ServiceClient, None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed bearer token.")
        offered = header[1]
        matched = False
        for token in getattr(settings, self.setting):
            # No early exit: the time taken does not depend on which token matched.
            matched |= bool(token) and hmac.compare_digest(offered, token.encode())
        if not matched:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return ServiceClient(self.setting), None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="okasio-privacy"'


class OppositionToken(ServiceTokenAuthentication):
    setting = "OPPOSITION_API_TOKENS"


class PlatformToken(ServiceTokenAuthentication):
    setting = "PLATFORM_API_TOKENS"


class OppositionTokenScheme(OpenApiAuthenticationExtension):
    target_class = OppositionToken
    name = "oppositionToken"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "OPPOSITION_API_TOKENS"}


class PlatformTokenScheme(OpenApiAuthenticationExtension):
    target_class = PlatformToken
    name = "platformToken"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "PLATFORM_API_TOKENS"}


class IsServiceClient(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, ServiceClient)


# --- The banner (C1-C5) -------------------------------------------------------------------


def _language(request: Request) -> str:
    wanted = request.query_params.get("lang", "")
    codes = [code for code, _name in settings.LANGUAGES]
    if wanted in codes:
        return wanted
    return translation.get_language_from_request(request._request)


def _allow_embedding_origin(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """CORS for the sites that embed the banner (CONSENT_EMBED_ORIGINS), no credentials."""
    origin = request.headers.get("Origin", "")
    if origin and origin in settings.CONSENT_EMBED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
    response["Vary"] = "Origin, Cookie, Accept-Language"
    return response


class CookieBannerAPI(APIView):
    """The banner's texts and version, whether to ask, and the visitor's choices."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    class ChoiceInputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CookieChoiceInput"

        browser_id = serializers.UUIDField(required=False, allow_null=True)
        version = serializers.CharField(max_length=64)
        choices = serializers.DictField(child=serializers.BooleanField())

        def validate_choices(self, value: dict[str, bool]) -> dict[str, bool]:
            unknown = set(value) - {p.value for p in COOKIE_PURPOSES}
            if unknown:
                raise serializers.ValidationError(f"Unknown purposes: {sorted(unknown)}")
            return value

    class ChoiceOutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CookieChoiceOutput"

        browser_id = serializers.UUIDField()
        version = serializers.CharField()
        choices = serializers.DictField(child=serializers.BooleanField())
        cookie_name = serializers.CharField()
        cookie = serializers.CharField()
        max_age = serializers.IntegerField()

    class StateOutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CookieBannerState"

        version = serializers.CharField()
        ask = serializers.BooleanField()
        browser_id = serializers.UUIDField(allow_null=True)
        choices = serializers.DictField(child=serializers.BooleanField(), allow_null=True)
        cookie_name = serializers.CharField()
        banner = serializers.DictField()
        analytics = serializers.DictField(allow_null=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("lang", str, description="fr or en"),
            OpenApiParameter("state", str, description="the okasio_consent cookie's value"),
        ],
        responses=StateOutputSerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        # The busiest endpoint (every page view): no database, and the banner's JSON, the
        # same for everyone in a language, is serialised once per process (banner.py).
        now = timezone.now()
        raw = request.query_params.get("state") or request.COOKIES.get(banner.COOKIE_NAME)
        stored = banner.parse_cookie(raw)
        current = stored is not None and stored.is_current(now=now)
        visitor = {
            "version": banner.version(),
            "ask": not current,
            "browser_id": str(stored.browser_id) if current else None,
            "choices": stored.choices if current else None,
            "cookie_name": banner.COOKIE_NAME,
            "analytics": _analytics(),
        }
        body = json.dumps(visitor)[:-1] + ',"banner":' + banner.snapshot_json(_language(request))
        response = HttpResponse(body + "}", content_type="application/json")
        response["Cache-Control"] = "private, no-cache"
        return _allow_embedding_origin(request, response)

    @extend_schema(request=ChoiceInputSerializer, responses=ChoiceOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.ChoiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            stored = services.record_cookie_choice(
                browser_id=serializer.validated_data.get("browser_id"),
                version=serializer.validated_data["version"],
                choices=serializer.validated_data["choices"],
                now=timezone.now(),
            )
        except services.StaleBannerVersion:
            response = Response(
                {"detail": "The banner changed: reload it and choose again."},
                status=status.HTTP_409_CONFLICT,
            )
            return _allow_embedding_origin(request, response)
        data = {
            "browser_id": stored.browser_id,
            "version": stored.version,
            "choices": stored.choices,
            "cookie_name": banner.COOKIE_NAME,
            "cookie": stored.cookie_value(),
            "max_age": stored.max_age(),
        }
        response = Response(self.ChoiceOutputSerializer(data).data, status=status.HTTP_201_CREATED)
        return _allow_embedding_origin(request, response)

    def options(self, request: Request, *args, **kwargs) -> Response:
        return _allow_embedding_origin(request, Response(status=status.HTTP_204_NO_CONTENT))


def _analytics() -> dict | None:
    """Google Analytics settings for banner.js, or None when it is not configured."""
    if not settings.GA_MEASUREMENT_ID:
        return None
    return {
        "measurement_id": settings.GA_MEASUREMENT_ID,
        # 13 months at most, never extended on later visits (C5, C6).
        "cookie_expires": banner.MAX_COOKIE_SECONDS,
        "cookie_update": False,
    }


# --- The opposition check (B11) -----------------------------------------------------------


class OppositionCheckAPI(APIView):
    """For each email, in order, whether it is on the opposition list. Platform only."""

    authentication_classes = [OppositionToken]
    permission_classes = [IsServiceClient]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OppositionCheckInput"

        emails = serializers.ListField(
            child=serializers.EmailField(), max_length=OPPOSITION_CHECK_MAX_BATCH
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OppositionCheckOutput"

        opposed = serializers.ListField(child=serializers.BooleanField())

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: inline_serializer("OppositionCheckError", {"emails": serializers.ListField()}),
        },
        description=(
            f"At most {OPPOSITION_CHECK_MAX_BATCH} addresses per call. Authenticate with "
            "`Authorization: Bearer <token>` (OPPOSITION_API_TOKENS)."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        opposed = services.check_opposition(emails=serializer.validated_data["emails"])
        return Response(self.OutputSerializer({"opposed": opposed}).data)


# --- Saved-card withdrawal from the platform (C10) ------------------------------------------


class SavedCardWithdrawAPI(APIView):
    """Withdraw consent to keep a card: detached at Stripe and deleted at once. Platform only."""

    authentication_classes = [PlatformToken]
    permission_classes = [IsServiceClient]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SavedCardWithdrawInput"

        email = serializers.EmailField()
        payment_method = serializers.CharField(max_length=255)

    @extend_schema(request=InputSerializer, responses={204: None, 404: None})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        card = (
            SavedCard.objects.select_related("person")
            .filter(
                stripe_payment_method_id=serializer.validated_data["payment_method"],
                person__email__iexact=normalise_email(serializer.validated_data["email"]),
            )
            .first()
        )
        if card is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        services.withdraw_saved_card(card=card, source=ConsentSource.API, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)
