"""Texts become intake's notifications on the text channel (issue 23): the
same at-most-once rows, retries, attempt limit and outbox sweep as emails.
Each TextMessage row is copied with its state; a pending one is left for
intake's sweep to enqueue (no enqueued_at), a sending one is kept as such
(its send is unconfirmed: reported, never resent)."""

from django.db import migrations


def texts_to_notifications(apps, schema_editor):
    TextMessage = apps.get_model("patientloop", "TextMessage")
    Notification = apps.get_model("intake", "Notification")
    taken = set(Notification.objects.filter(channel="text").values_list("dedupe_key", flat=True))
    rows = [
        Notification(
            case_id=t.case_id,
            kind=t.kind,
            channel="text",
            # Already "text:<kind>:<case>:<occasion>", the key intake gives a text.
            dedupe_key=t.dedupe_key,
            recipient=t.recipient,
            state=t.state,
            attempts=t.attempts,
            provider_id=t.provider_id,
            created_at=t.created_at,
            claimed_at=t.claimed_at,
            last_attempt_at=t.claimed_at,
            sent_at=t.sent_at,
        )
        for t in TextMessage.objects.all().iterator()
        if t.dedupe_key not in taken
    ]
    Notification.objects.bulk_create(rows, batch_size=500)


def notifications_to_texts(apps, schema_editor):
    TextMessage = apps.get_model("patientloop", "TextMessage")
    Notification = apps.get_model("intake", "Notification")
    for n in Notification.objects.filter(channel="text").iterator():
        TextMessage.objects.get_or_create(
            dedupe_key=n.dedupe_key,
            defaults={
                "case_id": n.case_id,
                "kind": n.kind,
                "recipient": n.recipient[:20],
                "state": n.state,
                "attempts": n.attempts,
                "provider_id": n.provider_id,
                "created_at": n.created_at,
                "claimed_at": n.claimed_at,
                "sent_at": n.sent_at,
            },
        )
    Notification.objects.filter(channel="text").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("patientloop", "0001_initial"),
        ("intake", "0010_notification_channel"),
    ]

    operations = [
        migrations.RunPython(texts_to_notifications, notifications_to_texts),
        migrations.DeleteModel(name="TextMessage"),
    ]
