
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0010_notification_channel'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='reviewrequest',
            name='reader',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='cases_to_read', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='reviewrequest',
            index=models.Index(fields=['reader', 'status'], name='case_reader_status'),
        ),
    ]
