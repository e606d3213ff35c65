"""The back office (issue 4): assignee, identity check, outcome, closure facts, and the
current and latest deadlines, filled for existing requests from the legal clock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from rights import deadlines


def fill_deadlines(apps, schema_editor):
    """Existing requests: latest = receipt + 3 months (A4); current = extended or legal."""
    DataSubjectRequest = apps.get_model("rights", "DataSubjectRequest")
    for dsr in DataSubjectRequest.objects.iterator(chunk_size=2000):
        dsr.latest_due_on = deadlines.extended_due_on(dsr.received_on)
        dsr.current_due_on = dsr.extended_due_on or dsr.due_on
        if dsr.closed_at is not None:
            dsr.closed_on = deadlines.received_on(dsr.closed_at)
            dsr.days_taken = max((dsr.closed_on - dsr.received_on).days, 0)
        dsr.save(update_fields=["latest_due_on", "current_due_on", "closed_on", "days_taken"])


class Migration(migrations.Migration):

    dependencies = [
        ('rights', '0003_fulfilment'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='requeststep',
            name='rights_requeststep_kind_valid',
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='assignee',
            field=models.ForeignKey(blank=True, limit_choices_to={'groups__name': 'DPO', 'is_staff': True}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assigned_requests', to=settings.AUTH_USER_MODEL, verbose_name='assignee'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='closed_on',
            field=models.DateField(blank=True, null=True, verbose_name='closed on'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='current_due_on',
            field=models.DateField(null=True, verbose_name='current deadline'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='days_taken',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='days taken'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='identity_check_method',
            field=models.CharField(blank=True, choices=[('known_channel', 'A one-time code sent to the email or phone we know'), ('security_question', 'A question only you can answer'), ('redacted_id', 'An identity document, shown with what is not needed hidden')], max_length=20, verbose_name='identity check method'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='identity_checked_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='identity checked at'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='identity_doubt_reason',
            field=models.TextField(blank=True, verbose_name='reason for the reasonable doubt'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='identity_method_asked',
            field=models.CharField(blank=True, choices=[('known_channel', 'A one-time code sent to the email or phone we know'), ('security_question', 'A question only you can answer'), ('redacted_id', 'An identity document, shown with what is not needed hidden')], max_length=20, verbose_name='identity check method asked'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='latest_due_on',
            field=models.DateField(null=True, verbose_name='latest possible deadline (three months)'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='outcome_facts',
            field=models.TextField(blank=True, verbose_name='documented facts'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='outcome_ground',
            field=models.CharField(blank=True, choices=[('legal_exception', 'A legal exception applies (e.g. GDPR 17(3))'), ('identity_not_confirmed', 'We could not confirm your identity'), ('rights_of_others', 'It would affect the rights of other people'), ('not_applicable', 'The right does not apply to this processing'), ('manifestly_unfounded', 'Manifestly unfounded (GDPR 12(5))'), ('excessive', 'Excessive, in particular because repetitive (GDPR 12(5))')], max_length=30, verbose_name='ground'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='outcome_reasons',
            field=models.TextField(blank=True, verbose_name='reasons given to the person'),
        ),
        migrations.AddField(
            model_name='datasubjectrequest',
            name='paused_since',
            field=models.DateField(blank=True, null=True, verbose_name='clock paused since'),
        ),
        migrations.AlterField(
            model_name='requeststep',
            name='kind',
            field=models.CharField(choices=[('received', 'Request received'), ('confirmed', 'Request confirmed'), ('joined', 'Same request sent again: joined to this one'), ('extended', 'Deadline extended'), ('paused', 'Clock paused'), ('resumed', 'Clock restarted'), ('message', 'Message from our privacy team'), ('expired', 'Expired: never confirmed'), ('withdrawn', 'Withdrawn by you'), ('started', 'We started working on your request'), ('question', 'We asked you for information'), ('answer', 'Your answer'), ('identity_checked', 'Identity confirmed'), ('completed', 'Request completed'), ('partially_completed', 'Request partially completed'), ('refused', 'Request refused')], max_length=20, verbose_name='step'),
        ),
        migrations.RunPython(fill_deadlines, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='datasubjectrequest',
            name='current_due_on',
            field=models.DateField(verbose_name='current deadline'),
        ),
        migrations.AlterField(
            model_name='datasubjectrequest',
            name='latest_due_on',
            field=models.DateField(verbose_name='latest possible deadline (three months)'),
        ),
        migrations.AddIndex(
            model_name='datasubjectrequest',
            index=models.Index(fields=['status', 'current_due_on'], name='rights_dsr_status_due'),
        ),
        migrations.AddConstraint(
            model_name='datasubjectrequest',
            constraint=models.CheckConstraint(condition=models.Q(('current_due_on__gte', models.F('due_on'))), name='rights_dsr_current_due_not_before_due'),
        ),
        migrations.AddConstraint(
            model_name='datasubjectrequest',
            constraint=models.CheckConstraint(condition=models.Q(('identity_check_method', ''), ('identity_check_method__in', ['known_channel', 'security_question', 'redacted_id']), _connector='OR'), name='rights_dsr_identity_method_valid'),
        ),
        migrations.AddConstraint(
            model_name='datasubjectrequest',
            constraint=models.CheckConstraint(condition=models.Q(('identity_method_asked', ''), ('identity_method_asked__in', ['known_channel', 'security_question', 'redacted_id']), _connector='OR'), name='rights_dsr_identity_method_asked_valid'),
        ),
        migrations.AddConstraint(
            model_name='datasubjectrequest',
            constraint=models.CheckConstraint(condition=models.Q(('outcome_ground', ''), ('outcome_ground__in', ['legal_exception', 'identity_not_confirmed', 'rights_of_others', 'not_applicable', 'manifestly_unfounded', 'excessive']), _connector='OR'), name='rights_dsr_outcome_ground_valid'),
        ),
        migrations.AddConstraint(
            model_name='datasubjectrequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['refused', 'partially_completed']), _negated=True), models.Q(models.Q(('outcome_reasons', ''), _negated=True), models.Q(('outcome_ground', ''), _negated=True)), _connector='OR'), name='rights_dsr_refusal_has_reasons'),
        ),
        migrations.AddConstraint(
            model_name='datasubjectrequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('outcome_ground__in', ['manifestly_unfounded', 'excessive']), _negated=True), models.Q(('outcome_facts', ''), _negated=True), _connector='OR'), name='rights_dsr_unfounded_has_facts'),
        ),
        migrations.AddConstraint(
            model_name='requeststep',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['received', 'confirmed', 'joined', 'extended', 'paused', 'resumed', 'message', 'expired', 'withdrawn', 'started', 'question', 'answer', 'identity_checked', 'completed', 'partially_completed', 'refused'])), name='rights_requeststep_kind_valid'),
        ),
    ]
