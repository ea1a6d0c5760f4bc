from django.db import migrations


def create_policy(apps, schema_editor):
    apps.get_model("safety", "SafetyPolicy").objects.get_or_create(
        pk=1, defaults={"default_action": "reject"}
    )


class Migration(migrations.Migration):
    dependencies = [("safety", "0001_initial")]

    operations = [migrations.RunPython(create_policy, migrations.RunPython.noop)]
