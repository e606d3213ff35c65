"""The consent JSON API: the banner's state and choices, the opposition check, card withdrawal.

- GET/POST /api/v1/consent/: public, called by banner.js on every page view (and by Okasio's
  own site, which embeds the banner with one script tag; CONSENT_EMBED_ORIGINS may call it).
- POST /api/v1/opposition/check: Okasio's platform only (a service token, B11).
- POST /api/v1/saved-cards/withdraw: Okasio's platform only (C10).
- GET /api/v1/consents/texts/: public, the wordings of the platform's consent boxes.
- POST /api/v1/consents/: Okasio's platform only, a choice made there (B12, C10).

Every status code a view can return is in the schema (tests/rights/test_api_schema.py).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import authentication, exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from okasio_privacy.drf import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
)
from people.models import SavedCard

from . import banner, services
from .models import COOKIE_PURPOSES, Action, ConsentSource, Purpose

OPPOSITION_CHECK_MAX_BATCH = 1000
# Where on the platform a choice can be made: its sign-up form, its checkout, or elsewhere
# (its account settings), which is `api`.
PLATFORM_SOURCES = (ConsentSource.SIGNUP, ConsentSource.CHECKOUT, ConsentSource.API)
# A platform clock slightly ahead of ours is not a choice "in the future".
CLOCK_SKEW = timedelta(minutes=1)
# What a kept card needs besides its payment method id.
CARD_FIELDS = ("brand", "last4", "exp_month", "exp_year")

# --- Answers every view shares, as the schema describes them ------------------------------


@extend_schema_serializer(component_name="ConsentMessage")
class MessageSerializer(serializers.Serializer):
    detail = serializers.CharField()


VALIDATION_ERROR = OpenApiResponse(
    response={
        "type": "object",
        "description": "Field name (or `detail` for a body that is not JSON) → errors.",
        "additionalProperties": True,
    },
    description="Invalid input: the errors of each field.",
)
UNAUTHORIZED = OpenApiResponse(
    MessageSerializer,
    description="No token, or not one of this API's tokens (`Authorization: Bearer <token>`).",
)

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
        version = StrictCharField(max_length=64)
        choices = serializers.DictField(child=StrictBooleanField())

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

    @extend_schema(
        request=ChoiceInputSerializer,
        responses={
            201: ChoiceOutputSerializer,
            400: VALIDATION_ERROR,
            409: OpenApiResponse(
                MessageSerializer, description="The banner changed meanwhile: reload it."
            ),
        },
    )
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
        responses={200: OutputSerializer, 400: VALIDATION_ERROR, 401: UNAUTHORIZED},
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
        payment_method = StrictCharField(max_length=255)

    @extend_schema(
        request=InputSerializer,
        responses={
            204: OpenApiResponse(
                description="Withdrawn: recorded, and the card detached at Stripe and deleted "
                "(or, if Stripe failed, out of every list and retried by retention)."
            ),
            400: VALIDATION_ERROR,
            401: UNAUTHORIZED,
            404: OpenApiResponse(description="No such card for this address."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        card = SavedCard.objects.of(data["email"], data["payment_method"])
        if card is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        services.withdraw_saved_card(card=card, source=ConsentSource.API, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Consents given on Okasio's platform (B12, C10) ------------------------------------------


class ConsentTextsAPI(APIView):
    """The current wording of each consent box, in each language, with its hash. Public."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="ConsentText")
        class TextSerializer(serializers.Serializer):
            purpose = serializers.ChoiceField(choices=list(services.PURPOSE_TEXT_KINDS))
            language = serializers.CharField()
            text = serializers.CharField(help_text="Show exactly this, next to an unticked box.")
            hash = serializers.CharField(help_text="Send it back as `text_hash`.")

        class Meta:
            ref_name = "ConsentTexts"

        texts = TextSerializer(many=True)

    @extend_schema(
        summary="The consent boxes' texts",
        description=(
            "What Okasio's platform shows next to its consent boxes (sign-up's marketing box, "
            'checkout\'s "keep my card" box; both unticked by default), per language, with '
            "the hash to send with each choice to `POST /api/v1/consents/`."
        ),
        responses={200: OutputSerializer},
    )
    def get(self, request: Request) -> Response:
        kinds = {kind: purpose for purpose, kind in services.PURPOSE_TEXT_KINDS.items()}
        texts = [
            {
                "purpose": kinds[text.kind],
                "language": text.snapshot["language"],
                "text": text.snapshot["text"],
                "hash": text.hash,
            }
            for text in services.current_texts(now=timezone.now())
        ]
        response = Response(self.OutputSerializer({"texts": texts}).data)
        response["Cache-Control"] = "public, max-age=300"
        return response


class ConsentRecordAPI(APIView):
    """Record a choice made on Okasio's platform: the portal keeps the proof. Platform only."""

    authentication_classes = [PlatformToken]
    permission_classes = [IsServiceClient]

    class InputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="ConsentCard")
        class CardSerializer(serializers.Serializer):
            payment_method = StrictCharField(
                max_length=255, help_text="The Stripe payment method id (pm_...)."
            )
            brand = StrictCharField(max_length=20, required=False)
            last4 = StrictRegexField(r"^[0-9]{4}$", required=False)
            exp_month = StrictIntegerField(min_value=1, max_value=12, required=False)
            exp_year = StrictIntegerField(min_value=2000, max_value=2100, required=False)

        class Meta:
            ref_name = "ConsentRecordInput"

        email = serializers.EmailField()
        purpose = serializers.ChoiceField(choices=list(services.PURPOSE_TEXT_KINDS))
        action = serializers.ChoiceField(choices=Action.choices)
        source = serializers.ChoiceField(choices=[(s.value, s.label) for s in PLATFORM_SOURCES])
        text_hash = StrictCharField(
            max_length=64, help_text="The `hash` of the text shown, from the texts endpoint."
        )
        at = serializers.DateTimeField(
            required=False,
            help_text="When the person chose (default: now); not in the future, and at most "
            "CONSENT_RECORD_MAX_AGE_HOURS ago.",
        )
        card = CardSerializer(
            required=False,
            help_text="Keeping a card: all its fields. Withdrawing: `payment_method` alone "
            "names one card (without it, every card of the address). Otherwise, none.",
        )

        def validate_at(self, value: Any) -> Any:
            now = timezone.now()
            if value > now + CLOCK_SKEW:
                raise serializers.ValidationError("This moment is in the future.")
            if value < now - timedelta(hours=settings.CONSENT_RECORD_MAX_AGE_HOURS):
                raise serializers.ValidationError(
                    f"Older than {settings.CONSENT_RECORD_MAX_AGE_HOURS} hours."
                )
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            purpose, action = attrs["purpose"], attrs["action"]
            text = services.known_text(text_hash=attrs["text_hash"], purpose=purpose)
            if text is None:
                raise serializers.ValidationError(
                    {"text_hash": "Not the hash of a text of this box: see the texts endpoint."}
                )
            attrs["text"] = text
            card = attrs.get("card")
            keeps_card = purpose == Purpose.SAVED_CARD and action == Action.GRANTED
            names_card = purpose == Purpose.SAVED_CARD and action == Action.WITHDRAWN
            if keeps_card:
                missing = [name for name in CARD_FIELDS if not card or name not in card]
                if missing:
                    raise serializers.ValidationError(
                        {"card": {name: "Required to keep a card." for name in missing}}
                    )
            elif card is not None and not (names_card and set(card) == {"payment_method"}):
                raise serializers.ValidationError(
                    {"card": "Only to keep a card, or `payment_method` alone to withdraw one."}
                )
            return attrs

    @extend_schema_serializer(component_name="ConsentRecorded")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField(source="code", help_text="The record's public code.")
        purpose = serializers.CharField()
        action = serializers.CharField()
        at = serializers.DateTimeField()

    @extend_schema(
        summary="Record a choice made on the platform",
        description=(
            "A consent given, refused or withdrawn on Okasio's platform, with the hash of the "
            "exact text shown. Recorded through the portal's own services: a marketing "
            "withdrawal also puts the address on the opposition list; a card kept needs a "
            "known address; a card withdrawal detaches it at Stripe and deletes it (if Stripe "
            "fails, the withdrawal still stands and retention retries). Authenticate with "
            "`Authorization: Bearer <token>` (PLATFORM_API_TOKENS)."
        ),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: VALIDATION_ERROR,
            401: UNAUTHORIZED,
        },
        examples=[
            OpenApiExample(
                "Marketing box ticked at sign-up",
                value={
                    "email": "alice@example.fr",
                    "purpose": "marketing_email",
                    "action": "granted",
                    "source": "signup",
                    "text_hash": "<hash from GET /api/v1/consents/texts/>",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Card kept at checkout",
                value={
                    "email": "alice@example.fr",
                    "purpose": "saved_card",
                    "action": "granted",
                    "source": "checkout",
                    "text_hash": "<hash from GET /api/v1/consents/texts/>",
                    "at": "2026-01-15T11:58:00Z",
                    "card": {
                        "payment_method": "pm_1Q0PsIJvEtkwdCNY",
                        "brand": "visa",
                        "last4": "4242",
                        "exp_month": 4,
                        "exp_year": 2030,
                    },
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        card = data.get("card") or {}
        details = None
        if data["purpose"] == Purpose.SAVED_CARD and data["action"] == Action.GRANTED:
            details = services.CardDetails(
                stripe_payment_method_id=card["payment_method"],
                brand=card["brand"],
                last4=card["last4"],
                exp_month=card["exp_month"],
                exp_year=card["exp_year"],
            )
        try:
            record = services.record_platform_choice(
                email=data["email"],
                purpose=Purpose(data["purpose"]),
                action=Action(data["action"]),
                source=ConsentSource(data["source"]),
                text=data["text"],
                card=details,
                payment_method=card.get("payment_method"),
                now=data.get("at") or timezone.now(),
            )
        except services.UnknownPerson as exc:
            raise serializers.ValidationError({"email": "No person has this address."}) from exc
        except services.CardAlreadyKept as exc:
            raise serializers.ValidationError(
                {"card": {"payment_method": "This card is already kept."}}
            ) from exc
        return Response(self.OutputSerializer(record).data, status=status.HTTP_201_CREATED)
