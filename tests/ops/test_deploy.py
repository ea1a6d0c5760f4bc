"""The deployment guide's files: nginx accepts the site, systemd accepts the units, the
units and the nginx upstream agree, and .env.example documents every setting read.

nginx serving real traffic through these files is tests/system/test_nginx.py.
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess

import pytest

from tests.ops.deploy_files import (
    NGINX_CONF,
    PROD_ROOT,
    ROOT,
    nginx_site,
    read_unit,
    unit_files,
)

SETTINGS = ROOT / "happychat" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"


# --- nginx ----------------------------------------------------------------------------


def test_nginx_accepts_the_site_configuration(tmp_path):
    site = nginx_site(
        tmp_path / "nginx",
        http_port=8080,
        https_port=8443,
        upstreams=[8001, 8002],
        static_root=tmp_path / "static",
        media_root=tmp_path / "media",
    )

    done = subprocess.run(site.command("-t"), capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr
    assert "test is successful" in done.stderr
    assert "[warn]" not in done.stderr, done.stderr


def test_nginx_site_proxies_websockets_and_never_serves_uploads_from_disk():
    text = NGINX_CONF.read_text()
    ws = re.search(r"location /ws/ \{(.*?)\n    \}", text, re.S)
    assert ws is not None
    assert "proxy_set_header Upgrade $http_upgrade;" in ws.group(1)
    assert "proxy_set_header Connection $happychat_connection;" in ws.group(1)
    # The only location mapping MEDIA_ROOT is internal (X-Accel-Redirect after Django's
    # access check); /media/ itself goes to Django.
    media_aliases = re.findall(r"location (\S+) \{([^}]*alias /srv/happychat/var/media/;)", text)
    assert [path for path, _ in media_aliases] == ["/_protected_media/"]
    assert "internal;" in media_aliases[0][1]
    assert re.search(r"location /media/ \{\s*proxy_pass http://happychat;", text)
    # Public avatars may come from disk, and nothing else of MEDIA_ROOT.
    roots = re.findall(r"location (.+?) \{[^}]*root /srv/happychat/var;", text)
    assert roots == ["~ ^/media/(avatars|group-avatars)/[A-Za-z0-9._-]+$"]
    # An avatar not on this disk (MEDIA_STORAGE=s3) is Django's to answer.
    fallback = r"root /srv/happychat/var;[^\n]*\n\s*try_files \$uri @media_from_django;"
    assert re.search(fallback, text)
    assert re.search(r"location @media_from_django \{\s*proxy_pass http://happychat;", text)
    # Overwritten, never appended: daphne --proxy-headers trusts its first address.
    assert "$proxy_add_x_forwarded_for" not in text
    assert text.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2
    assert "listen 443 ssl http2;" in text


# --- systemd --------------------------------------------------------------------------


def test_systemd_accepts_the_units(tmp_path):
    units = unit_files(tmp_path / "units")
    names = [
        "happychat@8001.socket",
        "happychat@8001.service",
        "happychat.target",
        "happychat-backup.service",
        "happychat-backup.timer",
        "happychat-media-cleanup.service",
        "happychat-media-cleanup.timer",
    ]

    done = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=units,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    # Unknown keys and bad values are only warnings there: there must be none.
    assert done.stderr.strip() == "", done.stderr


def test_daphne_unit_takes_its_socket_and_raises_its_limits():
    service, socket = read_unit("happychat@.service"), read_unit("happychat@.socket")

    command = shlex.split(service["Service"]["ExecStart"])
    assert command[:3] == [f"{PROD_ROOT}/.venv/bin/python", "-m", "daphne"]
    assert command[command.index("--fd") + 1] == "3"
    assert "--proxy-headers" in command
    assert command[-1] == "happychat.asgi:application"
    assert service["Service"]["WorkingDirectory"] == PROD_ROOT
    assert int(service["Service"]["LimitNOFILE"]) >= 65536
    assert service["Service"]["Restart"] == "always"
    assert service["Service"]["ReadWritePaths"] == f"{PROD_ROOT}/var"
    assert "happychat@%i.socket" in service["Unit"]["Requires"]
    assert service["Install"]["WantedBy"] == "happychat.target"
    assert socket["Socket"]["ListenStream"] == "127.0.0.1:%i"


def test_nginx_upstream_lists_the_ports_the_docs_enable():
    ports = re.findall(r"server 127\.0\.0\.1:(\d+);", NGINX_CONF.read_text())
    doc = DEPLOY_DOC.read_text()

    assert ports == ["8001", "8002"]
    for port in ports:
        assert f"happychat@{port}.socket" in doc
        assert f"happychat@{port}.service" in doc


def test_backup_timer_runs_the_backup_command():
    service, timer = read_unit("happychat-backup.service"), read_unit("happychat-backup.timer")

    command = shlex.split(service["Service"]["ExecStart"])
    assert command[:3] == [f"{PROD_ROOT}/.venv/bin/python", "manage.py", "backup"]
    assert service["Service"]["Type"] == "oneshot"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["OnCalendar"]


def test_media_cleanup_timer_runs_the_cleanup_command_hourly():
    service = read_unit("happychat-media-cleanup.service")
    timer = read_unit("happychat-media-cleanup.timer")

    command = shlex.split(service["Service"]["ExecStart"])
    assert command == [f"{PROD_ROOT}/.venv/bin/python", "manage.py", "media_cleanup"]
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["WorkingDirectory"] == PROD_ROOT
    assert timer["Timer"]["OnCalendar"] == "hourly"
    assert timer["Timer"]["Persistent"] == "true"


# --- settings and .env.example --------------------------------------------------------


def settings_variables() -> set[str]:
    """Names settings.py reads: env(...), env.<cast>(...), os.environ / os.getenv."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            reads_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and (
                    (isinstance(func.value, ast.Name) and func.value.id == "env")
                    or ast.unparse(func) in ("os.environ.get", "os.getenv")
                )
            )
            if reads_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
    return names


def env_example_blocks() -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


VARIABLE = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=")


def test_settings_reads_at_least_what_this_test_knows_it_reads():
    # The parser itself: if these went missing, the checks below would prove nothing.
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_TEST_DB_NAME",
            "BACKUP_DIR", "THROTTLE_EXPORT"} <= settings_variables()  # fmt: skip


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    documented: dict[str, list[str]] = {}
    for block in env_example_blocks():
        for line in block:
            match = VARIABLE.match(line)
            if match:
                documented[match.group(1)] = block

    missing = sorted(settings_variables() - set(documented))
    unknown = sorted(set(documented) - settings_variables())

    assert missing == [], f"read by settings.py but not in .env.example: {missing}"
    assert unknown == [], f"in .env.example but never read by settings.py: {unknown}"
    for name, block in documented.items():
        prose = [line for line in block if line.startswith("#") and not VARIABLE.match(line)]
        assert prose, f"{name} has no comment saying what it does"


@pytest.mark.parametrize(
    "needle",
    [
        "happychat@.service",
        "happychat.target",
        "LimitNOFILE",
        "deploy/nginx/happychat.conf",
        "wss://",
        "X-Accel-Redirect",
        "migrate",
        "collectstatic",
        "createcachetable",
        "manage.py check --deploy",
        "manage.py backup",
        "manage.py restore",
        "export_user",
        "happychat-backup.timer",
        "happychat-media-cleanup.timer",
        "manage.py media_cleanup",
        "manage.py media_to_s3",
        "MEDIA_STORAGE=s3",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_ENDPOINT_URL",
        "AWS_S3_REGION_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "journalctl",
        "createuser",
        "redis",
    ],
)
def test_deployment_guide_covers(needle):
    assert needle in DEPLOY_DOC.read_text()


def test_deployment_guide_points_at_files_that_exist():
    doc = DEPLOY_DOC.read_text()
    for path in sorted(set(re.findall(r"`(deploy/[\w./@-]+)`", doc))):
        assert (ROOT / path).exists(), f"docs/deploy.md names {path}, which does not exist"
