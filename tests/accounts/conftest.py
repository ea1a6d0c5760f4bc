"""Fixtures for account tests: a clean shared cache, images, activation links from mail."""

import io
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import TestCase
from PIL import Image
from rest_framework.throttling import SimpleRateThrottle


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clean_cache(db):
    """Throttles and allauth rate limits live in the cache; start every test from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def throttle_rates(monkeypatch):
    """Set DRF throttle rates for one test (DRF binds the dict at import time)."""

    def set_rates(**rates: str) -> None:
        for scope, rate in rates.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


def committed():
    """Run what services defer to commit (tests run inside a transaction that never commits)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (400, 300), mode: str = "RGB", **kw):
    buf = io.BytesIO()
    Image.new(mode, size, (200, 40, 90) if mode == "RGB" else None).save(buf, format=fmt, **kw)
    return buf.getvalue()


def activation_links(to: str) -> list[str]:
    """The activation links mailed to `to`, oldest first."""
    links = []
    for message in mail.outbox:
        if to in message.to:
            links.extend(re.findall(r"https?://\S+/accounts/confirm-email/[-:\w]+/", message.body))
    return links
