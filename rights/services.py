"""Workflows of a request's intake: filing, confirming, following, withdrawing, and the outbox.

Every function takes keyword-only arguments and `now` (STYLE 3). Callers (the portal views,
the admin, the API) must answer the same way whatever these return: the page never says
whether an address is known (no enumeration); the person learns it by email.

Emails go through the outbox: `queue_email` writes an `OutgoingEmail` in the caller's
transaction (rendered; `queue_link_email` leaves the rendering and the link to the sender)
and, once it commits, asks Celery to send it (under load, one relay task per second and
process sends them: RelayThrottle). If the broker is down the request still succeeds;
`relay_pending_emails` (every minute) sends whatever is still pending.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from audit.hashing import normalise_email
from audit.models import ActorType
from audit.services import record_event
from rights import deadlines, emails, tasks
from rights.emails import absolute_url
from rights.forms import describe_details
from rights.models import (
    ActionRefused,
    Channel,
    DataSubjectRequest,
    EmailStatus,
    IdentityMethod,
    LinkPurpose,
    OutgoingEmail,
    RequestKind,
    RequestPause,
    RequestStatus,
    RequestStep,
    SecretLink,
    StepKind,
    hash_token,
    validate_details,
)

logger = logging.getLogger(__name__)

# After this many failed attempts an email is marked failed and left for the DPO to see.
MAX_SEND_ATTEMPTS = 10
# Periodic jobs work in bounded batches; the next run takes the rest.
BATCH_SIZE = 500
# What the sender of an email with a link writes (rights.models.OutgoingEmail.link).
RENDERED_FIELDS = ["subject", "body_text", "body_html"]
# Under load, emails queued within this many seconds share one relay task (RelayThrottle).
RELAY_WINDOW_SECONDS = 1.0


class LinkState(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


# --- The outbox ---------------------------------------------------------------------------


def queue_email(
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    now: datetime,
    dsr: DataSubjectRequest | None = None,
    headers: dict[str, str] | None = None,
) -> OutgoingEmail:
    """Render `templates/emails/<template>/` in `language` and put it in the outbox.

    The row joins the caller's transaction; sending is asked for only after it commits.
    `headers` are sent as extra headers (e.g. List-Unsubscribe).
    """
    subject, text, html = emails.render(template, context=context, language=language)
    outgoing = OutgoingEmail.objects.create(
        request=dsr,
        template=template,
        to=normalise_email(to),
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
        headers=headers or {},
        created_at=now,
    )
    transaction.on_commit(partial(enqueue_email, outgoing.id))
    return outgoing


def queue_link_email(
    *, template: str, dsr: DataSubjectRequest, link: LinkPurpose, language: str, now: datetime
) -> OutgoingEmail:
    """Put an email about `dsr` in the outbox, with a `link` its sender issues and renders.

    The caller writes no link and renders nothing (the intake's busy path, #8): the sender
    issues the link in the transaction that marks the email sent, so its token exists
    only in that email, and a relay after a broker outage still sends it, once.
    """
    outgoing = OutgoingEmail.objects.create(
        request=dsr,
        template=template,
        to=dsr.email,
        language=language,
        link=link,
        created_at=now,
    )
    transaction.on_commit(partial(enqueue_email, outgoing.id))
    return outgoing


def _render_with_link(outgoing: OutgoingEmail, *, now: datetime) -> None:
    """Issue the link of an email queued by queue_link_email and render the email."""
    dsr = outgoing.request
    if outgoing.link == LinkPurpose.CONFIRM:
        _, token = SecretLink.issue(
            purpose=LinkPurpose.CONFIRM,
            request=dsr,
            expires_at=dsr.confirmation_expires_at(),
            now=now,
        )
        links = {"confirm_url": _confirm_url(dsr, token, language=outgoing.language)}
    else:
        _, url = new_tracker_link(dsr, now=now, language=outgoing.language)
        links = {"tracker_url": url}
    outgoing.subject, outgoing.body_text, outgoing.body_html = emails.render(
        outgoing.template, context=_email_context(dsr, **links), language=outgoing.language
    )


class RelayThrottle:
    """At most two Celery messages per window per process, however many emails are queued.

    Publishing a task costs a web process more than the rest of an intake's Python (#8:
    kombu builds a message and a Redis client each time). So the first email after a quiet
    window gets its own task at once, as before; those queued during the window share one
    relay task that runs when the window ends. Under load an email waits at most one window
    more; the periodic relay still catches anything a failed publish left.
    """

    def __init__(self, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()  # gthread workers
        self._window_ends = float("-inf")
        self._relay_asked = False

    def claim(self) -> tuple[str, float] | None:
        """("send", 0) for this email's own task, ("relay", countdown) for the window's
        relay, or None when that relay is already asked for."""
        now = self.clock()
        with self._lock:
            if now >= self._window_ends:
                self._window_ends = now + self.window
                self._relay_asked = False
                return "send", 0.0
            if self._relay_asked:
                return None
            self._relay_asked = True
            return "relay", self._window_ends - now


RELAY = RelayThrottle(RELAY_WINDOW_SECONDS)


def enqueue_email(email_id: int) -> None:
    """Ask a worker to send one committed email (or the relay that will: RelayThrottle).

    A broker failure is logged, never raised: the email stays pending and the periodic
    relay sends it (the request that queued it still succeeds). Tasks that run in-process
    (no Redis: the quick start, the tests) are not throttled: each email goes at once.
    """
    eager = tasks.send_email.app.conf.task_always_eager
    claim = ("send", 0.0) if eager else RELAY.claim()
    if claim is None:
        return
    try:
        if claim[0] == "send":
            tasks.send_email.delay(email_id)
        else:
            tasks.relay_pending_emails.apply_async(countdown=claim[1])
    except Exception as exc:  # the broker (Redis) is down, or anything on the way to it
        logger.warning(
            "Outgoing email %s not queued (%s); the relay will send it",
            email_id,
            type(exc).__name__,
        )


def send_outgoing_email(*, email_id: int, now: datetime) -> bool:
    """Send one pending email, exactly once; return whether this call sent it.

    The row is locked (skipping rows another sender holds) and marked sent in the same
    transaction, so two relays never send the same email.
    """
    with transaction.atomic():
        outgoing = (
            OutgoingEmail.objects.pending()
            .select_for_update(skip_locked=True)
            .filter(pk=email_id)
            .first()
        )
        if outgoing is None:
            return False
        if outgoing.link and not outgoing.body_text:  # issued and rendered now (queue_link_email)
            if outgoing.request is None:  # the request was deleted meanwhile: nothing to say
                outgoing.status = EmailStatus.FAILED
                outgoing.save(update_fields=["status"])
                _audit_email(outgoing, "email.failed", now=now)
                return False
            _render_with_link(outgoing, now=now)
        outgoing.attempts += 1
        message = EmailMultiAlternatives(
            subject=outgoing.subject,
            body=outgoing.body_text,
            to=[outgoing.to],
            headers=outgoing.headers or None,
        )
        message.attach_alternative(outgoing.body_html, "text/html")
        try:
            message.send()
        except Exception as exc:
            if outgoing.attempts >= MAX_SEND_ATTEMPTS:
                outgoing.status = EmailStatus.FAILED
            # The rendered email is kept with its link: the next attempt sends the same one.
            outgoing.save(update_fields=["attempts", "status", *RENDERED_FIELDS])
            logger.warning(
                "Outgoing email %s not sent, attempt %s (%s)",
                outgoing.code,
                outgoing.attempts,
                type(exc).__name__,
            )
            _audit_email(outgoing, "email.failed", now=now)
            return False
        outgoing.status = EmailStatus.SENT
        outgoing.sent_at = now
        outgoing.save(update_fields=["attempts", "status", "sent_at", *RENDERED_FIELDS])
        _audit_email(outgoing, "email.sent", now=now)
    return True


def relay_pending_emails(*, now: datetime, limit: int = BATCH_SIZE) -> int:
    """Send what is still pending, oldest first; return how many this call sent."""
    ids = list(
        OutgoingEmail.objects.pending()
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(send_outgoing_email(email_id=email_id, now=now) for email_id in ids)


def _audit_email(outgoing: OutgoingEmail, action: str, *, now: datetime) -> None:
    record_event(
        action=action,
        actor_type=ActorType.SYSTEM,
        object_type="rights.OutgoingEmail",
        object_ref=str(outgoing.code),
        details={"template": outgoing.template, "attempts": outgoing.attempts},
        subject_email=outgoing.to,
        now=now,
    )


# --- Filing a request ---------------------------------------------------------------------


@transaction.atomic
def submit_request(
    *,
    kind: str,
    email: str,
    name: str,
    language: str,
    details: dict[str, Any] | None,
    now: datetime,
) -> DataSubjectRequest:
    """File a request from the portal (or the API); return the request it belongs to.

    A new request waits for the person to confirm it through the link emailed to them. A
    second open request of the same kind for the same address is not created: the person
    is told by email that it joins the existing one, which is returned. Callers must answer
    identically in both cases. Raise ValidationError for an invalid kind, language or details.
    """
    if kind not in RequestKind.values:
        raise ValidationError({"kind": "Unknown kind of request."})
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": "Unknown language."})
    details = validate_details(kind, details)
    email = normalise_email(email)
    candidate = DataSubjectRequest(
        kind=kind, email=email, name=name.strip(), language=language, details=details
    )
    candidate.set_clock(now)
    # New or joined, the same one statement (the API tests count them).
    dsr = DataSubjectRequest.objects.insert_unless_open(candidate)
    if dsr.code != candidate.code:
        _join_existing(dsr, details=details, language=language, now=now)
        return dsr
    # Ours: the candidate holds every field as inserted, and now its id.
    candidate.pk = dsr.pk
    candidate._state.adding = False
    dsr = candidate
    dsr.add_step(StepKind.RECEIVED, now=now)
    queue_link_email(
        template="request_confirm",
        dsr=dsr,
        link=LinkPurpose.CONFIRM,
        language=dsr.language,
        now=now,
    )
    # Last: every intake waits for the audit log's lock, held from here to the commit.
    dsr.audit("request.submitted", now=now, actor_type=ActorType.PERSON, channel=Channel.PORTAL)
    return dsr


def _join_existing(
    dsr: DataSubjectRequest, *, details: dict[str, Any], language: str, now: datetime
) -> None:
    """The same right asked again while a request is open: tell the person by email.

    What this submission asked is kept on the "joined" step, in its own words, for the DPO
    only (RequestStep.public_message: nobody confirmed it): the request keeps its first
    details, and nothing sent is lost (an objection to marketing joining one to another
    use, a further correction).
    The email carries a fresh link to the existing request (a confirmation link while it
    waits for confirmation, a tracker link after), so a lost first email is not a dead end.
    """
    with translation.override(language):
        asked = "\n".join(f"{q}: {a}" for q, a in describe_details(dsr.kind, details))
    dsr.add_step(StepKind.JOINED, now=now, message=asked)
    queue_link_email(
        template="request_joined",
        dsr=dsr,
        link=LinkPurpose.CONFIRM if dsr.status == RequestStatus.SUBMITTED else LinkPurpose.TRACKER,
        language=language,
        now=now,
    )
    dsr.audit("request.joined", now=now, actor_type=ActorType.PERSON)


@transaction.atomic
def log_received_request(
    *,
    kind: str,
    email: str,
    name: str,
    language: str,
    channel: str,
    received_at: datetime,
    by: AbstractBaseUser,
    now: datetime,
    details: dict[str, Any] | None = None,
    deceased_email: str = "",
) -> DataSubjectRequest:
    """Log a request that reached us by email or post, with its declared receipt time (A1).

    `deceased_email`: the request comes from the person a post-mortem directive names (or
    an heir) about someone who died; it must be what the directive allows (B14).

    The clock runs from `received_at`, never from the logging time; it must not be in the
    future. The request is open at once (it came from the person; no confirmation link) and
    the person receives the acknowledgement with their tracker link. Raise ValidationError
    for a future receipt, a portal channel, or invalid details, and IntegrityError when the
    address already has a confirmed request of that kind not yet closed.

    A portal request of the same right still waiting for confirmation is not one yet
    (anyone can file it for any address): it expires, and the letter's request takes its
    place, so nobody can keep the DPO from logging a real request by filing unconfirmed ones.
    """
    if received_at.tzinfo is None:
        raise ValidationError({"received_at": "received_at must be timezone-aware."})
    if received_at > now:
        raise ValidationError({"received_at": "The receipt date cannot be in the future."})
    if channel not in (Channel.EMAIL, Channel.POST):
        raise ValidationError({"channel": "Staff log requests received by email or post."})
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": "Unknown language."})
    if deceased_email:
        from rights import directives  # it queues its emails through this module

        directives.check_request_about_deceased(
            kind=kind, requester=email, deceased_email=deceased_email
        )
    dsr = DataSubjectRequest(
        kind=kind,
        email=normalise_email(email),
        deceased_email=normalise_email(deceased_email) if deceased_email else "",
        name=name.strip(),
        language=language,
        channel=channel,
        details=validate_details(kind, details, complete=False),
        status=RequestStatus.OPEN,
        logged_by=by,
    )
    dsr.set_clock(received_at)
    waiting = DataSubjectRequest.objects.for_email(email).filter(
        kind=kind, status=RequestStatus.SUBMITTED
    )
    for unconfirmed in waiting.select_for_update():
        unconfirmed.expire(now=now)
    dsr.save()
    dsr.add_step(StepKind.RECEIVED, now=received_at)
    dsr.audit(
        "request.logged",
        now=now,
        actor_user=by,
        channel=channel,
        received_on=dsr.received_on.isoformat(),
    )
    _acknowledge(dsr, now=now)
    return dsr


def _acknowledge(dsr: DataSubjectRequest, *, now: datetime) -> str:
    """Email the acknowledgement (received date, legal deadline, tracker link; A10)."""
    token, url = new_tracker_link(dsr, now=now)
    queue_email(
        template="request_acknowledged",
        to=dsr.email,
        language=dsr.language,
        context=_email_context(dsr, tracker_url=url),
        dsr=dsr,
        now=now,
    )
    dsr.audit("request.acknowledged", now=now)
    return token


def confirmation_link_state(*, token: str, now: datetime) -> LinkState:
    """What using this confirmation link would do, without using it (for the GET page)."""
    link = SecretLink.objects.find(LinkPurpose.CONFIRM, token)
    if link is None:
        return LinkState.INVALID
    return _confirmation_state(link, link.request, now=now)


def _confirmation_state(link: SecretLink, dsr: DataSubjectRequest, *, now: datetime) -> LinkState:
    if dsr.status == RequestStatus.EXPIRED or (
        dsr.status == RequestStatus.SUBMITTED and link.is_expired(now=now)
    ):
        return LinkState.EXPIRED
    if dsr.status != RequestStatus.SUBMITTED or link.used_at is not None:
        return LinkState.USED
    return LinkState.OK


@transaction.atomic
def confirm_request(
    *, token: str, now: datetime
) -> tuple[LinkState, DataSubjectRequest | None, str]:
    """Use a confirmation link: return (state, request, tracker token).

    On success the request is open, every confirmation link of it is spent, and the
    acknowledgement is queued; the tracker token is returned so the person lands on it.
    """
    link = SecretLink.objects.find(LinkPurpose.CONFIRM, token)
    if link is None:
        return LinkState.INVALID, None, ""
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=link.request_id)
    state = _confirmation_state(link, dsr, now=now)
    if state != LinkState.OK:
        return state, dsr, ""
    dsr.confirm(now=now)
    dsr.links.filter(purpose=LinkPurpose.CONFIRM, used_at__isnull=True).update(used_at=now)
    return LinkState.OK, dsr, _acknowledge(dsr, now=now)


def find_tracked_request(*, token: str) -> DataSubjectRequest | None:
    """The request a tracker link points at, or None."""
    link = SecretLink.objects.find(LinkPurpose.TRACKER, token)
    return link.request if link else None


@transaction.atomic
def withdraw_request(*, dsr: DataSubjectRequest, now: datetime) -> None:
    """The person withdraws their request; they get a confirmation by email.

    Raise InvalidTransition when the request is no longer open.
    """
    dsr = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
    dsr.withdraw(now=now)
    queue_email(
        template="request_withdrawn",
        to=dsr.email,
        language=dsr.language,
        context=_email_context(dsr),
        dsr=dsr,
        now=now,
    )


def send_confirmation_reminders(*, now: datetime, limit: int = BATCH_SIZE) -> int:
    """Remind once, RIGHTS_CONFIRMATION_REMINDER_DAYS after submission, those who have not
    confirmed and whose link has not expired; return how many were reminded.

    The reminder carries a new link with the same expiry, issued by its sender
    (queue_link_email); the first link stays valid.
    """
    due = (
        DataSubjectRequest.objects.unconfirmed_since(
            now - timedelta(days=settings.RIGHTS_CONFIRMATION_REMINDER_DAYS)
        )
        .filter(
            reminded_at__isnull=True,
            received_at__gt=now - timedelta(days=settings.RIGHTS_CONFIRMATION_LINK_DAYS),
        )
        .order_by("received_at")
    )
    count = 0
    for dsr_id in list(due.values_list("id", flat=True)[:limit]):
        with transaction.atomic():
            dsr = (
                DataSubjectRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=dsr_id, status=RequestStatus.SUBMITTED, reminded_at__isnull=True)
                .first()
            )
            if dsr is None:
                continue
            dsr.mark_reminded(now=now)
            queue_link_email(
                template="request_reminder",
                dsr=dsr,
                link=LinkPurpose.CONFIRM,
                language=dsr.language,
                now=now,
            )
            count += 1
    return count


# --- Retention of requests (scheduled by retention.sweeps, which locks the rows) -----------


def expire_requests(keys: list[int], *, now: datetime) -> int:
    """Expire these requests if still unconfirmed (retention's unconfirmed_requests policy
    picks those whose link expired); return how many.

    Each expiry is a step and an audit event: a request never disappears silently.
    """
    count = 0
    for dsr in DataSubjectRequest.objects.filter(pk__any=keys, status=RequestStatus.SUBMITTED):
        dsr.expire(now=now)
        count += 1
    return count


def delete_requests(keys: list[int]) -> int:
    """Delete these requests with their steps, links and exports, and the emails written
    about them (which hold the address); return how many requests went. A fixed number of
    queries whatever the number of requests."""
    OutgoingEmail.objects.filter(request_id__any=keys).delete()
    _, deleted = DataSubjectRequest.objects.filter(pk__any=keys).delete()
    return deleted.get(DataSubjectRequest._meta.label, 0)


def anonymise_requests(keys: list[int], *, now: datetime) -> int:
    """Remove the person from these closed requests: address, name, answers, the doubt
    about their identity, the messages on the tracker; delete the emails and the links
    left. The facts of the procedure stay (kind, channel, dates, extension, outcome,
    ground, days taken, recipients told): the proof of A11. Return how many.

    The audit log keeps its keyed hashes: it is append-only, and they name no one.
    """
    OutgoingEmail.objects.filter(request_id__any=keys).delete()
    SecretLink.objects.filter(request_id__any=keys).delete()
    RequestStep.objects.filter(request_id__any=keys).exclude(message="").update(message="")
    return DataSubjectRequest.objects.filter(pk__any=keys).update(
        email="",
        deceased_email="",
        name="",
        details={},
        identity_doubt_reason="",
        anonymised_at=now,
    )


# --- The privacy space --------------------------------------------------------------------


@transaction.atomic
def request_sign_in_link(*, email: str, language: str, now: datetime) -> None:
    """Email a single-use sign-in link to `email`, whether or not it has requests.

    Doing the same thing for every address keeps the page and its queries identical for
    known and unknown addresses; the space simply lists nothing for an unknown one.
    """
    minutes = settings.RIGHTS_SIGN_IN_LINK_MINUTES
    _, token = SecretLink.issue(
        purpose=LinkPurpose.SIGN_IN,
        email=email,
        expires_at=now + timedelta(minutes=minutes),
        now=now,
    )
    record_event(
        action="space.link_requested",
        actor_type=ActorType.PERSON,
        subject_email=email,
        now=now,
    )
    queue_email(
        template="space_sign_in",
        to=email,
        language=language,
        context={
            "sign_in_url": absolute_url("rights:space_enter", language=language, token=token),
            "minutes": minutes,
        },
        now=now,
    )


@transaction.atomic
def use_sign_in_link(*, token: str, now: datetime) -> tuple[LinkState, str]:
    """Spend a sign-in link: return (state, the verified normalised email or "")."""
    link = (
        SecretLink.objects.select_for_update()
        .filter(purpose=LinkPurpose.SIGN_IN, token_hash=hash_token(token))
        .first()
    )
    if link is None:
        return LinkState.INVALID, ""
    if link.used_at is not None:
        return LinkState.USED, ""
    if link.is_expired(now=now):
        return LinkState.EXPIRED, ""
    link.mark_used(now=now)
    record_event(
        action="space.signed_in", actor_type=ActorType.PERSON, subject_email=link.email, now=now
    )
    return LinkState.OK, link.email


# --- The DPO's back office (issue 4) --------------------------------------------------------
# Each action locks the request, calls one model method (status + step + audit event) and
# tells the person by email, with a fresh tracker link, in the same transaction. Rules
# refuse with ActionRefused (a message for the DPO); nothing is half done.


def _locked(dsr: DataSubjectRequest) -> DataSubjectRequest:
    return DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)


def _tell_person(dsr: DataSubjectRequest, template: str, *, now: datetime, **extra: Any) -> None:
    _, url = new_tracker_link(dsr, now=now)
    queue_email(
        template=template,
        to=dsr.email,
        language=dsr.language,
        context=_email_context(dsr, tracker_url=url, **extra),
        dsr=dsr,
        now=now,
    )


@transaction.atomic
def assign_request(
    *,
    dsr: DataSubjectRequest,
    assignee: AbstractBaseUser | None,
    by: AbstractBaseUser,
    now: datetime,
) -> DataSubjectRequest:
    """Give the request to a member of the DPO group (or to nobody).

    Internal: the person is not emailed (who handles it changes nothing for them).
    """
    dsr = _locked(dsr)
    dsr.assign(assignee=assignee, by=by, now=now)
    return dsr


@transaction.atomic
def start_request(
    *, dsr: DataSubjectRequest, by: AbstractBaseUser, now: datetime
) -> DataSubjectRequest:
    """Open → in progress; the person is told work has started."""
    dsr = _locked(dsr)
    dsr.start(by=by, now=now)
    _tell_person(dsr, "request_started", now=now)
    return dsr


@transaction.atomic
def ask_person(
    *,
    dsr: DataSubjectRequest,
    reason: str,
    message: str,
    pause_clock: bool,
    by: AbstractBaseUser,
    now: datetime,
    doubt_reason: str = "",
    identity_method: str = "",
) -> RequestPause | None:
    """Ask for a clarification or, on a recorded reasonable doubt, for proof of identity by
    the least intrusive method (A5); pause the clock if allowed (A6). Return the pause.

    No document is uploaded to the portal: the person answers on the tracker, and the DPO
    records only the method by which the identity was checked (`record_identity_check`).
    """
    dsr = _locked(dsr)
    pause = dsr.ask_person(
        reason=reason,
        message=message,
        pause_clock=pause_clock,
        doubt_reason=doubt_reason,
        identity_method=identity_method,
        by=by,
        now=now,
    )
    _tell_person(
        dsr,
        "request_question",
        now=now,
        question=message,
        paused=pause is not None,
        identity_method=IdentityMethod(identity_method).label if identity_method else "",
        redacted_id=identity_method == IdentityMethod.REDACTED_ID,
    )
    return pause


@transaction.atomic
def answer_request(*, dsr: DataSubjectRequest, message: str, now: datetime) -> None:
    """The person answers from their tracker: the pause ends and the deadline moves by the
    paused days (A6). Raise ActionRefused when no answer is awaited."""
    dsr = _locked(dsr)
    dsr.record_answer(message=message, now=now)


@transaction.atomic
def record_identity_check(
    *, dsr: DataSubjectRequest, method: str, by: AbstractBaseUser, now: datetime
) -> None:
    """Record "identity checked (method)": the only trace kept of the proof (A5, EDPB § 79)."""
    dsr = _locked(dsr)
    dsr.mark_identity_checked(method=method, by=by, now=now)


@transaction.atomic
def extend_request(
    *,
    dsr: DataSubjectRequest,
    reason: str,
    justification: str,
    by: AbstractBaseUser,
    now: datetime,
) -> DataSubjectRequest:
    """The one extension (A4): the person gets the reasons and the new date at once."""
    dsr = _locked(dsr)
    dsr.extend(reason=reason, justification=justification, by=by, now=now)
    _tell_person(dsr, "request_extended", now=now)
    return dsr


@transaction.atomic
def send_message(
    *, dsr: DataSubjectRequest, message: str, by: AbstractBaseUser, now: datetime
) -> None:
    """A message from the DPO, on the tracker and by email."""
    dsr = _locked(dsr)
    dsr.add_message(message=message, by=by, now=now)
    _tell_person(dsr, "request_message", now=now, message=message.strip())


def _require_work_done(dsr: DataSubjectRequest) -> None:
    """Before a request is closed by hand as completed or partially completed: check that
    its right's work is done; raise ActionRefused saying what to do otherwise.

    Each right has its own action on the request page, which does the work and answers the
    request (rights.fulfilment, "The request page"; access and portability complete when
    their export is built). Closing by hand is left for what those actions do not cover,
    such as a rectification the person described in words and the DPO made in the record.
    """
    from rights import fulfilment  # it imports this module

    if missing := fulfilment.work_left(dsr):
        raise ActionRefused(missing)


@transaction.atomic
def complete_request(
    *, dsr: DataSubjectRequest, by: AbstractBaseUser, now: datetime
) -> DataSubjectRequest:
    """Check the right-specific work is done, close the request, tell the person."""
    dsr = _locked(dsr)
    _require_work_done(dsr)
    dsr.mark_completed(by=by, now=now)
    _tell_person(dsr, "request_completed", now=now)
    return dsr


@transaction.atomic
def partially_complete_request(
    *,
    dsr: DataSubjectRequest,
    ground: str,
    reasons: str,
    by: AbstractBaseUser,
    now: datetime,
    facts: str = "",
) -> DataSubjectRequest:
    """Close as partially completed: the email gives the reasons and the remedies (A7, B13)."""
    dsr = _locked(dsr)
    _require_work_done(dsr)
    dsr.mark_partially_completed(ground=ground, reasons=reasons, facts=facts, by=by, now=now)
    _tell_person(dsr, "request_partially_completed", now=now)
    return dsr


@transaction.atomic
def refuse_request(
    *,
    dsr: DataSubjectRequest,
    ground: str,
    reasons: str,
    by: AbstractBaseUser,
    now: datetime,
    facts: str = "",
) -> DataSubjectRequest:
    """Refuse: the email gives the reasons, the right to complain to the CNIL (or the
    authority where the person lives or works) and to a judicial remedy (A7, A8, B13)."""
    dsr = _locked(dsr)
    dsr.refuse(ground=ground, reasons=reasons, facts=facts, by=by, now=now)
    _tell_person(dsr, "request_refused", now=now)
    return dsr


DIGEST_MAX_ROWS = 200


def send_deadline_digest(*, now: datetime) -> int:
    """Email each DPO member the requests due within RIGHTS_DUE_SOON_DAYS and those overdue;
    return how many emails were queued (none when nothing is due).

    The email names requests by reference and kind only: no subject's personal data.
    """
    from people.dpo_permissions import dpo_members

    today = deadlines.received_on(now)
    days = settings.RIGHTS_DUE_SOON_DAYS
    rows = ("code", "kind", "current_due_on")
    overdue_qs = DataSubjectRequest.objects.overdue(today).order_by("current_due_on", "id")
    due_qs = DataSubjectRequest.objects.due_within(today, days).order_by("current_due_on", "id")
    overdue = [_digest_row(r, today) for r in overdue_qs.values(*rows)[:DIGEST_MAX_ROWS]]
    due_soon = [_digest_row(r, today) for r in due_qs.values(*rows)[:DIGEST_MAX_ROWS]]
    if not overdue and not due_soon:
        return 0
    context = {
        "today": today,
        "days": days,
        "overdue": overdue,
        "overdue_count": overdue_qs.count(),
        "due_soon": due_soon,
        "due_soon_count": due_qs.count(),
        "queue_url": settings.SITE_URL.rstrip("/")
        + reverse("admin:rights_datasubjectrequest_changelist"),
    }
    recipients = dpo_members().exclude(email="").values_list("email", flat=True)
    count = 0
    with transaction.atomic():
        for address in recipients:
            queue_email(
                template="dpo_digest",
                to=address,
                language=settings.LANGUAGE_CODE,
                context=context,
                now=now,
            )
            count += 1
        record_event(
            action="requests.digest_sent",
            actor_type=ActorType.SYSTEM,
            details={"recipients": count, "overdue": len(overdue), "due_soon": len(due_soon)},
            now=now,
        )
    return count


def _digest_row(row: dict[str, Any], today: Any) -> dict[str, Any]:
    return {
        "reference": str(row["code"])[:8].upper(),
        "kind": RequestKind(row["kind"]).label,
        "due_on": row["current_due_on"],
        "days_left": (row["current_due_on"] - today).days,
    }


# --- Helpers ------------------------------------------------------------------------------


def _confirm_url(dsr: DataSubjectRequest, token: str, *, language: str = "") -> str:
    return absolute_url("rights:confirm", language=language or dsr.language, token=token)


def new_tracker_link(
    dsr: DataSubjectRequest, *, now: datetime, language: str = ""
) -> tuple[str, str]:
    """Issue a tracker link to `dsr`; return its token and its absolute URL (in `language`,
    the request's by default)."""
    _, token = SecretLink.issue(purpose=LinkPurpose.TRACKER, request=dsr, now=now)
    url = absolute_url("rights:tracker", language=language or dsr.language, token=token)
    return token, url


def _email_context(dsr: DataSubjectRequest, **extra: Any) -> dict[str, Any]:
    return {
        "dsr": dsr,
        "name": dsr.name,
        "link_days": settings.RIGHTS_CONFIRMATION_LINK_DAYS,
        "expires_at": dsr.confirmation_expires_at(),
        "space_url": absolute_url("rights:space", language=dsr.language),
        **extra,
    }
