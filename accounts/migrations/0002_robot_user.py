from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import migrations


def create_robot(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.update_or_create(
        username=settings.ROBOT_USERNAME,
        defaults={
            "nickname": "HappyBot",
            "is_robot": True,
            "is_active": True,
            "password": make_password(None),
            "bio": "Ask me anything about HappyChat. Type /help.",
        },
    )


def remove_robot(apps, schema_editor):
    apps.get_model("accounts", "User").objects.filter(is_robot=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_robot, remove_robot)]
