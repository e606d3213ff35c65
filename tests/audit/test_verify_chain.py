from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import ActorType, AuditEvent
from audit.services import Anchor, chain_head, verify_chain
from tests.conftest import NOW


@pytest.fixture
def chain(make_event):
    return [make_event(action=f"request.step_{n}", details={"n": n}) for n in range(5)]


def test_it_passes_an_empty_log(db):
    assert verify_chain() == (True, None, 0)
    assert call_command("audit_verify") is None


def test_it_passes_an_intact_chain(chain, capsys):
    assert verify_chain(chunk_size=2) == (True, None, 5)

    call_command("audit_verify")

    head = f"{chain[-1].pk}:{chain[-1].hash}"
    assert capsys.readouterr().out.strip() == f"OK: 5 events, chain intact; head {head}"


def test_it_names_an_edited_row(chain, tamper):
    tamper("UPDATE audit_auditevent SET details = %s WHERE id = %s", ['{"n": 99}', chain[2].pk])

    assert verify_chain() == (False, chain[2].pk, 3)
    with pytest.raises(CommandError, match=rf"event {chain[2].pk} \(.*request\.step_2\)") as exc:
        call_command("audit_verify")
    assert exc.value.returncode == 1  # what `manage.py audit_verify` exits with


def test_it_names_an_edited_row_even_with_its_hash_recomputed(chain, tamper):
    forged = AuditEvent.objects.get(pk=chain[2].pk)
    forged.subject_hash = "0" * 64
    tamper(
        "UPDATE audit_auditevent SET subject_hash = %s, hash = %s WHERE id = %s",
        [forged.subject_hash, forged.compute_hash(), forged.pk],
    )

    # Only a keyed or anchored chain could name row 2 itself: the next row no longer links.
    assert verify_chain() == (False, chain[3].pk, 4)


def test_it_detects_a_deleted_row(chain, tamper):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [chain[2].pk])

    assert verify_chain() == (False, chain[3].pk, 3)
    with pytest.raises(CommandError, match=f"event {chain[3].pk} "):
        call_command("audit_verify")


def test_it_detects_a_deleted_first_row(chain, tamper):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [chain[0].pk])

    assert verify_chain() == (False, chain[1].pk, 1)


def test_it_detects_reordered_rows(chain, tamper):
    tamper("UPDATE audit_auditevent SET id = id + 1000 WHERE id = %s", [chain[1].pk])

    assert verify_chain() == (False, chain[2].pk, 2)


def test_it_detects_an_inserted_row(chain, tamper):
    # Make a gap after row 0 (ids are not hashed, so the chain still holds)...
    tamper("UPDATE audit_auditevent SET id = id + 1000 WHERE id > %s", [chain[0].pk])
    assert verify_chain().ok
    # ...and slip a row into it. It cannot chain from row 0: row 1 already does.
    forged = AuditEvent(
        pk=chain[0].pk + 1, action="request.withdrawn", actor_type=ActorType.SYSTEM, at=NOW
    )
    forged.prev_hash = "f" * 64
    forged.hash = forged.compute_hash()
    forged.save(force_insert=True)

    assert verify_chain() == (False, forged.pk, 2)


def test_it_reads_the_log_in_a_bounded_number_of_queries(make_event):
    def queries_to_verify(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert verify_chain(chunk_size=chunk_size).ok
        return len(ctx.captured_queries)

    for _ in range(3):
        make_event()
    few = queries_to_verify(chunk_size=2)
    for _ in range(30):
        make_event()
    many = queries_to_verify(chunk_size=2)

    assert few == many == 1


def test_an_anchor_catches_rows_cut_from_the_end(chain, tamper):
    """Without an anchor, a log cut short still verifies; the head written down before
    (audit_verify prints it, the nightly task logs it) no longer matches."""
    anchor = chain_head()
    tamper("DELETE FROM audit_auditevent WHERE id >= %s", [chain[3].pk])

    assert verify_chain() == (True, None, 3)  # what the chain alone cannot see
    assert verify_chain(anchor=anchor) == (False, chain[4].pk, 3)
    with pytest.raises(CommandError, match=f"anchored event {chain[4].pk} is gone"):
        call_command("audit_verify", f"--anchor={anchor}")


def test_an_anchor_catches_a_rewrite_with_every_later_hash_recomputed(chain, tamper):
    anchor = chain_head()
    prev = chain[1].hash
    for event in AuditEvent.objects.filter(pk__gte=chain[2].pk).order_by("id"):
        if event.pk == chain[2].pk:
            event.action = "request.forged"
        event.prev_hash = prev
        event.hash = prev = event.compute_hash()
        tamper(
            "UPDATE audit_auditevent SET action = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [event.action, event.prev_hash, event.hash, event.pk],
        )

    assert verify_chain().ok  # a consistent forgery
    assert verify_chain(anchor=anchor) == (False, chain[4].pk, 5)
    with pytest.raises(CommandError, match="has another hash"):
        call_command("audit_verify", f"--anchor={anchor}")


def test_an_anchor_is_read_from_what_audit_verify_prints(chain):
    anchor = chain_head()
    assert Anchor.parse(str(anchor)) == anchor
    assert verify_chain(anchor=Anchor.parse(f"{chain[1].pk}:{chain[1].hash}")).ok
    with pytest.raises(ValueError):
        Anchor.parse("12:not-a-hash")
    with pytest.raises(CommandError, match="ID:HASH"):
        call_command("audit_verify", "--anchor=nonsense")
