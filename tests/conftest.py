"""Fixtures shared by every test package: users, clients, temporary media."""

import importlib

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# Rows the data migrations create. A transactional test's flush removes them, and a later
# test on the same worker must still find the database as migrated.
MIGRATION_DATA = [
    ("accounts.migrations.0002_robot_user", "create_robot", "accounts.User", {"is_robot": True}),
    ("robot.migrations.0002_seed_knowledge", "seed", "robot.FaqEntry", {}),
    ("safety.migrations.0002_default_policy", "create_policy", "safety.SafetyPolicy", {}),
]


@pytest.fixture(autouse=True)
def _migrated_data(request):
    if request.node.get_closest_marker("django_db") is None and not (
        {"db", "transactional_db"} & set(request.fixturenames)
    ):
        return
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    for module, function, model, lookup in MIGRATION_DATA:
        if not apps.get_model(model).objects.filter(**lookup).exists():
            getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _fresh_word_matcher():
    # The compiled sensitive-word matcher is cached per process; tests roll back their
    # words, so each starts from the database again.
    from safety.selectors import policy_forget

    policy_forget()


@pytest.fixture(autouse=True)
def _no_abuse_cool_down():
    # Sockets closed for abuse cool their user down for the process; ids come back in later
    # tests' users, so each test starts with nobody cooling down.
    from chat import consumers

    consumers._cooling_down.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a user; tests about hashing itself set their own hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db) -> User:
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db) -> User:
    return UserFactory(username="bob")


@pytest.fixture
def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()
