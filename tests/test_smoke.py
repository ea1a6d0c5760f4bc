"""The project starts: settings load, the robot exists, the schema is served."""

import importlib

import pytest
from django.conf import settings

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_robot_user_is_created_by_migrations():
    # Run the data migration itself: a flush by an earlier transactional test may have
    # removed the row it created when the test database was built.
    from django.apps import apps

    User.objects.filter(username=settings.ROBOT_USERNAME).delete()
    importlib.import_module("accounts.migrations.0002_robot_user").create_robot(apps, None)
    robot = User.objects.get(username=settings.ROBOT_USERNAME)
    assert robot.is_robot
    assert not robot.has_usable_password()


def test_openapi_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"HappyChat API" in response.content


def test_swagger_ui_loads_assets_from_our_own_static(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"/static/drf_spectacular_sidecar/" in response.content
