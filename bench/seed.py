"""Many users with a knox token each, in one transaction: the idle-socket benchmark's people.

    python -m bench.seed < {"users": [names]}   (with the server's environment)
    → {"name": {"id": …, "token": …}, …}

tests/system/dbtool.py seeds users one by one through the factories (a few milliseconds
each); at 5,000 users that is minutes on a busy machine. These users only authenticate:
no password, no verified e-mail, no conversations.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from knox.models import AuthToken, get_digest_token
    from knox.settings import CONSTANTS

    from accounts.models import User

    names = json.load(sys.stdin)["users"]
    unusable = make_password(None)
    out = {}
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(username=n, email=f"{n}@example.com", nickname=n.title(), password=unusable)
                for n in names
            ],
            batch_size=1000,
        )
        tokens = []
        for user in users:
            digest, token = get_digest_token()
            tokens.append(
                AuthToken(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH], digest=digest, user=user)
            )
            out[user.username] = {"id": user.pk, "token": token}
        AuthToken.objects.bulk_create(tokens, batch_size=1000)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
