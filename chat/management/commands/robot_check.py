from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User


class Command(BaseCommand):
    help = "Check that the robot user exists (created by the accounts migrations)."

    def handle(self, *args: object, **options: object) -> None:
        robot = User.objects.filter(username=settings.ROBOT_USERNAME, is_robot=True).first()
        if robot is None:
            raise CommandError("The robot user is missing: run `manage.py migrate`.")
        self.stdout.write(f"robot ready: {robot.username} (id {robot.pk})")
