"""Give a test site's users files, from outside the processes under test.

Run as `python -m tests.ops.sitetool <command>` with the site's environment (DATABASE_URL,
MEDIA_ROOT…); it reads a JSON request on stdin and prints a JSON answer on stdout.
Commands:
  media {"user": name, "conversation": id}
        → the user gets an avatar, uploads an image and sends it as an image message:
          {"avatar": name, "image": name, "thumbnail": name, "message": id}
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def media(req: dict[str, Any]) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from chat.services.messages import message_send
    from chat.uploads import upload_create
    from happychat.images import avatar_image

    user = User.objects.get(username=req["user"])
    avatar = avatar_image(
        file=SimpleUploadedFile("me.png", png((200, 30, 30)), content_type="image/png")
    )
    user.avatar.save(avatar.name or "avatar.jpg", avatar)
    upload = upload_create(
        owner=user,
        file=SimpleUploadedFile("pic.png", png((20, 120, 220), (800, 600)), "image/png"),
    )
    message, _ = message_send(
        sender=user,
        conversation_id=req["conversation"],
        client_id=f"img-{upload.pk}",
        kind="image",
        body="",
        attachment_id=upload.pk,
    )
    return {
        "avatar": user.avatar.name,
        "image": upload.image.name,
        "thumbnail": upload.thumbnail.name,
        "message": message.pk,
    }


COMMANDS = {"media": media}


def main() -> None:
    import django

    django.setup()
    answer = COMMANDS[sys.argv[1]](json.loads(sys.stdin.read() or "{}"))
    sys.stdout.write(json.dumps(answer, default=str))


if __name__ == "__main__":
    main()
