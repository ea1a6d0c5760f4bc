# MessageReport moved to the moderation app (above chat); its table stays as it is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('safety', '0002_default_policy'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='MessageReport')],
            database_operations=[],
        ),
    ]
