"""The public API (STYLE 12): file a request, follow it with its tracker secret.

One APIView per operation; each validates, calls one service and answers. Like the portal
pages, filing never says whether an address is known or already has an open request: the
answer is the same 202 and the person learns the rest by email. The limits are the forms'
(rights.ratelimits, same counters), and the tracker secret is the capability itself, like
the tracker page's URL; database ids never appear.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from okasio_privacy.drf import StrictCharField
from rights import services
from rights.forms import EMAIL_MAX_LENGTH, FORMS, stored_address
from rights.models import RequestKind, RequestStatus, StepKind, validate_details
from rights.ratelimits import rate_limited

SUBMITTED_MESSAGE = _(
    "We have sent you an email. Open the link in it to confirm your request: we only act on "
    "confirmed requests. If you already have an open request of the same kind, the email "
    "tells you so."
)
TOO_MANY_MESSAGE = _("Too many attempts. Please try again later.")


def _details_schema() -> dict[str, Any]:
    """The `details` object, described from the portal forms' own fields."""
    properties: dict[str, Any] = {}
    for form in FORMS.values():
        for name in form.detail_fields:
            field = form.base_fields[name]
            if isinstance(field, forms.ChoiceField):
                properties[name] = {"type": "string", "enum": [value for value, _ in field.choices]}
            else:
                properties[name] = {"type": "string", "maxLength": field.max_length}
    per_kind = "; ".join(
        f"`{kind}`: " + (", ".join(f"`{name}`" for name in form.detail_fields) or "none")
        for kind, form in FORMS.items()
    )
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": (
            "What the right needs, as on the portal form of that right, checked with the "
            f"same rules (a 400 names what is missing or wrong). Fields per kind: {per_kind}."
        ),
    }


@extend_schema_field(_details_schema())
class DetailsField(serializers.DictField):
    """Any JSON object; `validate_details` (shared with the forms) checks it against the kind."""


@extend_schema_serializer(component_name="Message")
class MessageSerializer(serializers.Serializer):
    detail = serializers.CharField()


VALIDATION_ERROR = OpenApiResponse(
    response={
        "type": "object",
        "description": "Field name (or `detail` for a body that is not JSON) → errors.",
        "additionalProperties": True,
    },
    description="Invalid input: the errors of each field; `details` errors are keyed by field.",
    examples=[
        OpenApiExample(
            "Objection to another use, without grounds",
            value={"details": {"grounds": ["This field is required."]}},
            response_only=True,
            status_codes=["400"],
        )
    ],
)
TOO_MANY = OpenApiResponse(MessageSerializer, description="Over the rate limit; try later.")


class PublicApi(APIView):
    """Answers in the client's language (Accept-Language; French by default).

    LocaleMiddleware cannot: the API has no /en/ prefix, so it would always pick French.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        translation.activate(translation.get_language_from_request(request))
        super().initial(request, *args, **kwargs)


def _too_many() -> Response:
    return Response({"detail": str(TOO_MANY_MESSAGE)}, status=status.HTTP_429_TOO_MANY_REQUESTS)


class SubmitRequestApi(PublicApi):
    """POST /api/v1/requests/: file a request, exactly like the portal form of that right."""

    @extend_schema_serializer(component_name="RequestSubmission")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(
            choices=RequestKind.choices,
            error_messages={"invalid_choice": _("Select a valid choice.")},
        )
        email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
        name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
        language = serializers.ChoiceField(
            choices=settings.LANGUAGES,
            error_messages={"invalid_choice": _("Select a valid choice.")},
            help_text="Language of our emails and answers.",
        )
        details = DetailsField(required=False, default=dict)

        def validate_email(self, value: str) -> str:
            email = stored_address(value)
            if email is None:
                raise serializers.ValidationError(self.fields["email"].error_messages["invalid"])
            return email

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            try:
                attrs["details"] = validate_details(attrs["kind"], attrs["details"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError(
                    {"details": exc.message_dict if hasattr(exc, "error_dict") else exc.messages}
                ) from exc
            return attrs

    @extend_schema(
        operation_id="requests_submit",
        summary="File a request",
        description=(
            "Files a request as the portal form of that right does. We email the address a "
            "link to confirm it (we only act on confirmed requests), or, if it already has an "
            "open request of that kind, a message saying so. The answer is the same either "
            "way. Limits: RIGHTS_RATE_LIMIT_PER_IP per client IP and "
            "RIGHTS_RATE_LIMIT_PER_EMAIL per address, shared with the portal forms."
        ),
        tags=["requests"],
        request=InputSerializer,
        responses={
            202: OpenApiResponse(
                MessageSerializer,
                description=(
                    "Accepted, whether the address is known or not and whether the request is "
                    "new or joins an open one of the same kind: the email says which."
                ),
            ),
            400: VALIDATION_ERROR,
            429: TOO_MANY,
        },
    )
    @sensitive_variables()
    def post(self, request: Request) -> Response:
        data = request.data  # a body that is not JSON: ParseError, a 400
        email = data.get("email", "") if isinstance(data, dict) else ""
        if rate_limited(request, "rights.submit", email=email):
            return _too_many()
        serializer = self.InputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        try:
            services.submit_request(**serializer.validated_data, now=timezone.now())
        except DjangoValidationError as exc:  # the service re-checks what the serializer did
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc
        return Response({"detail": str(SUBMITTED_MESSAGE)}, status=status.HTTP_202_ACCEPTED)


@method_decorator(never_cache, name="dispatch")
class TrackRequestApi(PublicApi):
    """GET /api/v1/requests/<secret>/: what the tracker page shows, minus messages."""

    @extend_schema_serializer(component_name="TrackedRequest")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="RequestStep")
        class StepSerializer(serializers.Serializer):
            at = serializers.DateTimeField()
            kind = serializers.ChoiceField(choices=StepKind.choices)
            label = serializers.CharField(source="get_kind_display")

        kind = serializers.ChoiceField(choices=RequestKind.choices)
        status = serializers.ChoiceField(choices=RequestStatus.choices)
        received_on = serializers.DateField()
        due_on = serializers.DateField(help_text="The legal deadline (one month, working day).")
        extended_due_on = serializers.DateField(
            allow_null=True, help_text="The deadline after an extension; null unless extended."
        )
        # The steps' DPO messages may hold personal data: the tracker page shows them, not this.
        steps = StepSerializer(many=True)

    @extend_schema(
        operation_id="requests_track",
        summary="Follow a request",
        description=(
            "What the tracker page shows: the right, the status, the received date, the legal "
            "deadline (and the extended one), and each step. Never cached (no-store). Limit: "
            "RIGHTS_RATE_LIMIT_TRACKER_PER_IP per client IP."
        ),
        tags=["requests"],
        parameters=[
            OpenApiParameter(
                "token",
                str,
                OpenApiParameter.PATH,
                description=(
                    "The tracker secret: the last part of the tracker link in our emails "
                    "(/suivi/<secret>/). It is the only key to the request: keep it private."
                ),
            )
        ],
        responses={
            200: OutputSerializer,
            404: OpenApiResponse(MessageSerializer, description="No request has this secret."),
            429: TOO_MANY,
        },
    )
    def get(self, request: Request, token: str) -> Response:
        if rate_limited(request, "rights.track", per_ip=settings.RIGHTS_RATE_LIMIT_TRACKER_PER_IP):
            return _too_many()
        dsr = services.find_tracked_request(token=token)
        if dsr is None:
            raise Http404
        return Response(self.OutputSerializer(dsr).data)
