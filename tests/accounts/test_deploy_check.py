"""`manage.py check --deploy` passes with production settings from the environment."""

import secrets
import subprocess

from tests.servers import PYTHON, ROOT, django_env


def test_check_deploy_passes_with_production_environment(tmp_path):
    env = django_env(
        {
            "DJANGO_DEBUG": "False",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "chat.example.org",
            "DJANGO_SECURE_COOKIES": "True",
            "DJANGO_SECURE_SSL_REDIRECT": "True",
            "DJANGO_SECURE_HSTS_SECONDS": "31536000",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
    )

    result = subprocess.run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_with_the_development_defaults(tmp_path):
    env = django_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    for name in ("DJANGO_SECRET_KEY", "DJANGO_SECURE_COOKIES", "DJANGO_SECURE_HSTS_SECONDS"):
        env.pop(name, None)

    result = subprocess.run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout  # the insecure default key
