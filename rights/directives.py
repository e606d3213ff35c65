"""Post-mortem directives (LIL arts 84-85; REQUIREMENTS B14, D13).

French law lets anyone say what becomes of their data after their death: kept, erased or
given to someone they name. The privacy space records one directive per address; the person
changes or revokes it there at any time. After a death, the person it names (or the heirs)
writes to us; the DPO finds the directive by the address, checks the death and who is
asking, does what it says with the request tools (an erasure, an export sent to the person
named) and records here how it was carried out.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.hashing import normalise_email
from audit.models import ActorType
from audit.services import record_event
from rights import services
from rights.models import DirectiveInstruction, PostMortemDirective, RequestKind

OBJECT_TYPE = "rights.PostMortemDirective"


def directive_for(email: str) -> PostMortemDirective | None:
    return PostMortemDirective.objects.filter(email__iexact=normalise_email(email)).first()


# The requests a directive lets the person it names (or the heirs) make about the deceased.
ALLOWED_REQUESTS = {
    DirectiveInstruction.ERASE: {RequestKind.ERASURE},
    DirectiveInstruction.COMMUNICATE: {
        RequestKind.ACCESS,
        RequestKind.PORTABILITY,
        RequestKind.ERASURE,
    },
    DirectiveInstruction.KEEP: set(),
}


def check_request_about_deceased(*, kind: str, requester: str, deceased_email: str) -> None:
    """Raise ValidationError unless a request of `kind` from `requester` about the person of
    `deceased_email` is what their directive allows: a directive on file, not carried out
    yet, for this kind of request, from the person it names (anyone, as an heir, when it
    names nobody). Staff check the death and who is asking before acting (the request's
    identity check)."""
    directive = directive_for(deceased_email)
    if directive is None:
        raise ValidationError(
            {
                "deceased_email": _(
                    "No post-mortem directive is recorded for this address. Without one, "
                    "the heirs' requests (LIL art. 85 II) are handled by the DPO by hand."
                )
            }
        )
    if directive.carried_out_at:
        raise ValidationError({"deceased_email": _("This directive was already carried out.")})
    if kind not in ALLOWED_REQUESTS[DirectiveInstruction(directive.instruction)]:
        raise ValidationError(
            {
                "kind": _(
                    "The directive says: %(instruction)s. This request does not carry it out."
                )
                % {"instruction": directive.get_instruction_display()}
            }
        )
    if directive.executor_email and normalise_email(requester) != directive.executor_email:
        raise ValidationError({"email": _("The directive names someone else to carry it out.")})


@transaction.atomic
def record_directive(
    *,
    email: str,
    instruction: str,
    executor_name: str,
    executor_email: str,
    wishes: str,
    language: str,
    now: datetime,
) -> PostMortemDirective:
    """Record or replace the directive of this (verified) address, and confirm it by email.

    Raise ValidationError (full_clean: the model's constraints) when a copy is to be given
    to someone without their address.
    """
    email = normalise_email(email)
    directive = (
        PostMortemDirective.objects.select_for_update().filter(email__iexact=email).first()
    ) or PostMortemDirective(email=email, recorded_at=now)
    changed = directive.pk is not None
    directive.instruction = instruction
    directive.executor_name = executor_name.strip()
    directive.executor_email = normalise_email(executor_email) if executor_email else ""
    directive.wishes = wishes.strip()
    directive.changed_at = now
    directive.full_clean()
    directive.save()
    services.queue_email(
        template="directive_recorded",
        to=email,
        language=language,
        context={
            "directive": directive,
            "space_url": services.absolute_url("rights:space_directive", language=language),
        },
        now=now,
    )
    _audit(directive, "directive.changed" if changed else "directive.recorded", now=now)
    return directive


@transaction.atomic
def revoke_directive(*, email: str, now: datetime) -> bool:
    """Revoke (delete) the directive of this address; return whether there was one."""
    directive = directive_for(email)
    if directive is None or directive.carried_out_at:
        return False
    _audit(directive, "directive.revoked", now=now)
    directive.delete()
    return True


@transaction.atomic
def record_carried_out(
    *, directive: PostMortemDirective, note: str, by: AbstractBaseUser, now: datetime
) -> None:
    """The DPO carried the directive out: when, by whom, how the death and the requester
    were checked and what was done. Once only."""
    note = checked_note(note)
    directive = PostMortemDirective.objects.select_for_update().get(pk=directive.pk)
    if directive.carried_out_at:
        raise ValidationError(_("This directive was already carried out."))
    directive.carried_out_at = now
    directive.carried_out_by = by
    directive.carried_out_note = note
    directive.save(update_fields=["carried_out_at", "carried_out_by", "carried_out_note"])
    _audit(directive, "directive.carried_out", now=now, by=by)


def checked_note(note: str) -> str:
    """The note of a directive carried out, stripped; ValidationError when it says nothing."""
    note = note.strip()
    if not note:
        raise ValidationError(
            {"carried_out_note": _("Say how the death and the requester were checked.")}
        )
    return note


def _audit(
    directive: PostMortemDirective,
    action: str,
    *,
    now: datetime,
    by: AbstractBaseUser | None = None,
) -> None:
    record_event(
        action=action,
        actor_type=ActorType.STAFF if by else ActorType.PERSON,
        actor_user=by,
        object_type=OBJECT_TYPE,
        object_ref=str(directive.code),
        details={"instruction": directive.instruction},
        subject_email=directive.email,
        now=now,
    )
