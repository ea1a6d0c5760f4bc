"""Robot fixtures: the seeded FAQ and small talk, also after a transactional test's flush."""

import importlib

import pytest
from django.apps import apps

from robot.models import FaqEntry
from robot.selectors import knowledge_forget


@pytest.fixture
def robot_knowledge(transactional_db) -> None:
    """The FAQ and small talk the data migration seeds (a flush removes them)."""
    if not FaqEntry.objects.exists():
        importlib.import_module("robot.migrations.0002_seed_knowledge").seed(apps, None)
        knowledge_forget()
