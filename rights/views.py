"""The person's pages: the rights, a form per right, the confirmation link, the tracker, and
the privacy space. None of them says whether an address is known (no enumeration).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rights import directives, exports, services
from rights.forms import FORMS, AnswerForm, DirectiveForm, SignInForm
from rights.models import (
    RECTIFIABLE_FIELDS,
    DataSubjectRequest,
    DirectiveInstruction,
    InvalidTransition,
    RequestKind,
    RequestStatus,
)
from rights.ratelimits import rate_limited
from rights.services import LinkState

SPACE_SESSION_KEY = "rights_space"
IDENTITY_FIELDS = (
    "email",
    "name",
    "what_is_wrong",
    "correction",
    "part",
    "explanation",
    "grounds",
    *(f"new_{name}" for name in RECTIFIABLE_FIELDS),
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The rights explained in plain words (REQUIREMENTS D5), each with its form."""
    return render(request, "rights/home.html", {"kinds": RequestKind})


# --- Rate limits: per IP and per address (rights.ratelimits), failing open --------------


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "rights/rate_limited.html", status=429)


# --- Filing and confirming a request -------------------------------------------------------


@sensitive_post_parameters(*IDENTITY_FIELDS)
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, kind: str) -> HttpResponse:
    """The form for one right. Known or not, the address gets the same answer."""
    form_class = FORMS.get(kind)
    if form_class is None:
        raise Http404
    if request.method == "POST":
        if rate_limited(request, "rights.submit", email=request.POST.get("email", "")):
            return _too_many(request)
        form = form_class(request.POST)
        if form.is_valid():
            services.submit_request(
                kind=form.kind,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                language=form.cleaned_data["language"],
                details=form.details,
                now=timezone.now(),
            )
            return redirect("rights:submitted")
    else:
        form = form_class()
    return render(request, "rights/submit.html", {"form": form, "kind": RequestKind(kind)})


@require_GET
def submitted(request: HttpRequest) -> HttpResponse:
    return render(request, "rights/check_email.html", {"purpose": "request"})


def _link_problem(
    request: HttpRequest, state: LinkState, *, purpose: str = "request"
) -> HttpResponse:
    status = 404 if state == LinkState.INVALID else 410
    context = {"state": state.value, "purpose": purpose}
    return render(request, "rights/link_problem.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners must not spend the link); POST confirms."""
    now = timezone.now()
    if request.method == "GET":
        state = services.confirmation_link_state(token=token, now=now)
        if state != LinkState.OK:
            return _link_problem(request, state)
        return render(request, "rights/confirm.html")
    state, _, tracker_token = services.confirm_request(token=token, now=now)
    if state != LinkState.OK:
        return _link_problem(request, state)
    return redirect("rights:tracker", token=tracker_token)


# --- The tracker (a secret link) -----------------------------------------------------------


def _get_tracked(token: str) -> DataSubjectRequest:
    dsr = services.find_tracked_request(token=token)
    if dsr is None:
        raise Http404
    return dsr


@never_cache
@require_GET
def tracker(request: HttpRequest, token: str) -> HttpResponse:
    dsr = _get_tracked(token)
    return render(request, "rights/tracker.html", _tracker_context(dsr, token))


def _tracker_context(
    dsr: DataSubjectRequest, token: str, answer_form: AnswerForm | None = None
) -> dict:
    # The deadlines and the page both read the pauses, and the page the steps: once each.
    prefetch_related_objects([dsr], "pauses", "steps")
    return {
        "dsr": dsr,
        "token": token,
        "export": dsr.exports.available(now=timezone.now()).order_by("-created_at").first(),
        "notifications": dsr.recipient_notifications.all(),
        "answer_form": answer_form or AnswerForm(),
    }


@never_cache
@sensitive_post_parameters("answer")
@require_POST
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The person answers our question; the paused clock restarts (REQUIREMENTS A6)."""
    dsr = _get_tracked(token)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        context = _tracker_context(dsr, token, answer_form=form)
        return render(request, "rights/tracker.html", context, status=400)
    with contextlib.suppress(InvalidTransition):  # no longer awaited: the tracker shows why
        services.answer_request(dsr=dsr, message=form.cleaned_data["answer"], now=timezone.now())
    return redirect("rights:tracker", token=token)


@never_cache
@require_POST
def send_download_link(request: HttpRequest, token: str) -> HttpResponse:
    """ "Email me a download link": the download needs the mailbox again, not just this page."""
    dsr = _get_tracked(token)
    exports.send_download_link(dsr=dsr, now=timezone.now())
    return render(request, "rights/check_email.html", {"purpose": "download"})


@never_cache
@require_http_methods(["GET", "POST"])
def download(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners must not spend the link); POST streams the file."""
    if request.method == "GET":
        return render(request, "rights/download.html")
    state, export = exports.use_download_link(token=token, now=timezone.now())
    if state != LinkState.OK:
        return _link_problem(request, state, purpose="download")
    response = FileResponse(
        exports.open_export(export), as_attachment=True, filename=export.file_name
    )
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@require_POST
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    dsr = _get_tracked(token)
    with contextlib.suppress(InvalidTransition):  # already closed: the tracker shows how
        services.withdraw_request(dsr=dsr, now=timezone.now())
    return redirect("rights:tracker", token=token)


# --- The privacy space: signed in by an emailed link, scoped to that address ---------------


def space_email(request: HttpRequest, now: datetime) -> str:
    """The verified address of this session's privacy space, or "" (absent or expired)."""
    space = request.session.get(SPACE_SESSION_KEY) or {}
    until = space.get("until")
    if not until or datetime.fromisoformat(until) <= now:
        request.session.pop(SPACE_SESSION_KEY, None)
        return ""
    return space.get("email", "")


@sensitive_post_parameters("email")
@require_http_methods(["GET", "POST"])
def space_sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if rate_limited(request, "rights.sign_in", email=request.POST.get("email", "")):
            return _too_many(request)
        form = SignInForm(request.POST)
        if form.is_valid():
            services.request_sign_in_link(
                email=form.cleaned_data["email"],
                language=request.LANGUAGE_CODE,
                now=timezone.now(),
            )
            return redirect("rights:space_link_sent")
    else:
        form = SignInForm()
    return render(request, "rights/space_sign_in.html", {"form": form})


@require_GET
def space_link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "rights/check_email.html", {"purpose": "sign_in"})


@never_cache
@require_http_methods(["GET", "POST"])
def space_enter(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; POST spends the single-use link and opens the space."""
    if request.method == "GET":
        return render(request, "rights/space_enter.html")
    now = timezone.now()
    state, email = services.use_sign_in_link(token=token, now=now)
    if state != LinkState.OK:
        return _link_problem(request, state, purpose="sign_in")
    request.session.cycle_key()
    until = now + timedelta(minutes=settings.RIGHTS_SPACE_SESSION_MINUTES)
    request.session[SPACE_SESSION_KEY] = {"email": email, "until": until.isoformat()}
    return redirect("rights:space")


@never_cache
@require_GET
def space(request: HttpRequest) -> HttpResponse:
    email = space_email(request, timezone.now())
    if not email:
        return redirect("rights:space_sign_in")
    requests = (
        DataSubjectRequest.objects.for_email(email)
        .exclude(status=RequestStatus.EXPIRED)
        .prefetch_related("steps", "pauses")
        .order_by("-received_at")
    )
    return render(request, "rights/space.html", {"requests": requests, "email": email})


@never_cache
@require_POST
def space_withdraw(request: HttpRequest, code: str) -> HttpResponse:
    now = timezone.now()
    email = space_email(request, now)
    if not email:
        return redirect("rights:space_sign_in")
    dsr = get_object_or_404(DataSubjectRequest.objects.for_email(email), code=code)
    with contextlib.suppress(InvalidTransition):
        services.withdraw_request(dsr=dsr, now=now)
    return redirect("rights:space")


@never_cache
@require_http_methods(["GET", "POST"])
def space_directive(request: HttpRequest) -> HttpResponse:
    """The person's post-mortem directive: recorded, changed or revoked here (B14)."""
    now = timezone.now()
    email = space_email(request, now)
    if not email:
        return redirect("rights:space_sign_in")
    directive = directives.directive_for(email)
    if request.method == "POST" and not (directive and directive.carried_out_at):
        form = DirectiveForm(request.POST)
        if form.is_valid():
            directives.record_directive(
                email=email, language=request.LANGUAGE_CODE, now=now, **form.cleaned_data
            )
            return redirect(f"{reverse('rights:space_directive')}?saved=1")
    else:
        if directive:
            initial = model_to_dict(directive, fields=list(DirectiveForm.base_fields))
        else:
            initial = {"instruction": DirectiveInstruction.ERASE}
        form = DirectiveForm(initial=initial)
    return render(
        request,
        "rights/space_directive.html",
        {"form": form, "directive": directive, "saved": "saved" in request.GET},
    )


@never_cache
@require_POST
def space_directive_revoke(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    email = space_email(request, now)
    if not email:
        return redirect("rights:space_sign_in")
    directives.revoke_directive(email=email, now=now)
    return redirect("rights:space_directive")


@require_POST
def space_sign_out(request: HttpRequest) -> HttpResponse:
    request.session.pop(SPACE_SESSION_KEY, None)
    return redirect("rights:home")
