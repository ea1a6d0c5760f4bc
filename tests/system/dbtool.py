"""Seed and inspect a system-test database from outside the servers under test.

Run as `python -m tests.system.dbtool <command>` with the servers' environment
(DATABASE_URL…); it reads a JSON request on stdin and prints a JSON answer on stdout.
Commands:
  seed   {"users": [...], "friends": [[a, b]], "exfriends": [[a, b]],
          "groups": [{"name", "owner", "members": [...], "former": [...]}],
          "passwords": {name: password}, "inactive": [names]}
         → {"users": {name: {"id", "token"}}, "direct": {"a:b": id}, "groups": {name: {...}}}
  dump   {"conversations": [ids] | null} → {"messages": [...], "conversations": {id: last_seq}}
  race   {"conversation", "senders": [names], "per_sender", "threads_per_sender",
          "retry_races", "race_senders"} → what concurrent `message_send` calls returned
  batches {"pairs": [[sender, conversation]], "rounds", "threads", "reverse", "prefix",
          "shared"} → what `message_send`s run through the socket writer's batches
          (chat/writer.py) returned, and the errors of batches that had to be re-run
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")


def _setup() -> None:
    import django

    django.setup()


def seed(req: dict[str, Any]) -> dict[str, Any]:
    """Create activated users with knox tokens, friendships with their direct conversation,
    groups with their conversation, former members and former friends.

    Users in `passwords` get that password hashed by the site's own hasher, so they can log
    in with it (the others have a test-only hash the servers do not accept); users in
    `inactive` have not activated their account (no verified e-mail).
    """
    from django.test.utils import override_settings

    from accounts.models import User

    # Seeded people authenticate by token; a slow password hash per user buys nothing here.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        out = _seed(req)
    for name, password in req.get("passwords", {}).items():
        user = User.objects.get(username=name)
        user.set_password(password)
        user.save(update_fields=["password"])
    return out


def _seed(req: dict[str, Any]) -> dict[str, Any]:
    from knox.models import AuthToken

    from accounts.models import Friendship, User
    from chat.services import (
        conversation_direct_get_or_create,
        conversation_group_create,
        conversation_member_remove,
    )
    from groups.models import Group, GroupMember
    from tests.factories import UserFactory

    users: dict[str, User] = {}
    out: dict[str, Any] = {"users": {}, "direct": {}, "groups": {}}
    inactive = set(req.get("inactive", []))
    for name in req.get("users", []):
        user = UserFactory(username=name, verified=name not in inactive)
        users[name] = user
        _, token = AuthToken.objects.create(user)
        out["users"][name] = {"id": user.pk, "token": token}
    for a, b in [*req.get("friends", []), *req.get("exfriends", [])]:
        Friendship.objects.get_or_create(user=users[a], friend=users[b])
        Friendship.objects.get_or_create(user=users[b], friend=users[a])
        conversation, _ = conversation_direct_get_or_create(user_a=users[a], user_b=users[b])
        out["direct"][f"{a}:{b}"] = out["direct"][f"{b}:{a}"] = conversation.pk
    for a, b in req.get("exfriends", []):
        # Friends once, so the direct conversation exists, but no longer.
        Friendship.objects.filter(user=users[a], friend=users[b]).delete()
        Friendship.objects.filter(user=users[b], friend=users[a]).delete()
    for spec in req.get("groups", []):
        owner = users[spec["owner"]]
        members = [users[n] for n in spec.get("members", []) if n != spec["owner"]]
        former = [users[n] for n in spec.get("former", [])]
        everyone = [owner, *members, *former]
        conversation = conversation_group_create(user_ids=[u.pk for u in everyone])
        group = Group.objects.create(name=spec["name"], owner=owner, conversation=conversation)
        GroupMember.objects.create(group=group, user=owner, role=GroupMember.Role.OWNER)
        for u in members:
            GroupMember.objects.create(group=group, user=u)
        for u in former:
            conversation_member_remove(conversation=conversation, user_id=u.pk)
        out["groups"][spec["name"]] = {"id": group.pk, "conversation": conversation.pk}
    return out


def dump(req: dict[str, Any]) -> dict[str, Any]:
    """Every stored message (of the given conversations) and each conversation's last_seq."""
    from chat.models import Conversation, Message

    ids = req.get("conversations")
    messages = Message.objects.order_by("conversation_id", "seq")
    conversations = Conversation.objects.all()
    if ids is not None:
        messages = messages.filter(conversation_id__in=ids)
        conversations = conversations.filter(pk__in=ids)
    return {
        "messages": list(
            messages.values("id", "conversation", "seq", "sender", "client_id", "body")
        ),
        "conversations": {str(c.pk): c.last_seq for c in conversations},
    }


def _stored(client_id: str, message: Any, created: bool, **extra: Any) -> dict[str, Any]:
    """What `race` and `batches` report of one stored send."""
    return {
        "client_id": client_id,
        **extra,
        "id": message.pk,
        "seq": message.seq,
        "created": created,
    }


def race(req: dict[str, Any]) -> dict[str, Any]:
    """Call `message_send` from many threads at once (each its own DB connection)."""
    from django.db import connection

    from accounts.models import User
    from chat.services.messages import message_send
    from happychat.errors import Busy, RateLimited

    conversation_id = req["conversation"]
    senders = {u.username: u for u in User.objects.filter(username__in=req["senders"])}
    per_sender = req.get("per_sender", 20)
    threads_per_sender = req.get("threads_per_sender", 2)
    retry_races = req.get("retry_races", 0)
    jobs: list[tuple[User, list[str]]] = []
    for name, user in senders.items():
        ids = [f"{name}-{n}" for n in range(per_sender)]
        for t in range(threads_per_sender):
            jobs.append((user, ids[t::threads_per_sender]))
    # Each race: several threads send the very same (sender, client_id) at the same moment.
    race_names = req.get("race_senders", req["senders"])
    race_users = list(User.objects.filter(username__in=race_names).order_by("username"))
    for r in range(retry_races):
        user = race_users[r % len(race_users)]
        jobs.extend((user, [f"race-{r}"]) for _ in range(2))

    barrier = threading.Barrier(len(jobs))
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(user: User, client_ids: list[str]) -> None:
        try:
            barrier.wait(timeout=30)
            for client_id in client_ids:
                for _attempt in range(50):
                    try:
                        message, created = message_send(
                            sender=user,
                            conversation_id=conversation_id,
                            client_id=client_id,
                            body=f"body {client_id}",
                        )
                        break
                    except (Busy, RateLimited):  # retryable by contract: same id again
                        continue
                else:
                    raise RuntimeError(f"{client_id} never stored")
                with lock:
                    results.append(_stored(client_id, message, created, sender=user.username))
        except Exception as exc:
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return {"results": results, "errors": errors, "threads": len(jobs)}


def batches(req: dict[str, Any]) -> dict[str, Any]:
    """Run `message_send`s as a daphne's writer does: batches of sends to several
    conversations (each batch one of every pair, in `reverse` order if asked), from
    several threads at once, each with its own connection. Client ids start with `prefix`
    except those listed in `shared` rounds, which another process sends too."""
    import asyncio

    from django.db import connection

    import chat.consumers  # noqa: F401 - declares how the writer runs message_send
    from accounts.models import User
    from chat import statements, writer
    from chat.services.messages import message_send

    users = {u.username: u for u in User.objects.all()}
    pairs = [(users[name], conversation) for name, conversation in req["pairs"]]
    if req.get("reverse"):
        pairs.reverse()
    rounds, threads, prefix = req["rounds"], req["threads"], req["prefix"]
    shared = set(req.get("shared", []))
    failed: list[str] = []
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()
    run_together = statements.execute_together

    def counted(batch: Any) -> Any:
        try:
            return run_together(batch)
        except Exception as exc:
            with lock:
                state = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
                failed.append(state or type(exc).__name__)
            raise

    statements.execute_together = counted  # type: ignore[assignment]
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        loop = asyncio.new_event_loop()
        try:
            barrier.wait(timeout=30)
            for r in range(t, rounds, threads):
                jobs = []
                for sender, conversation in pairs:
                    head = "shared" if r in shared else prefix
                    kwargs = {
                        "sender": sender,
                        "conversation_id": conversation,
                        "client_id": f"{head}-{r}-{sender.username}-{conversation}",
                        "body": f"round {r}",
                    }
                    jobs.append((message_send, kwargs, loop.create_future()))
                for (_, kwargs, _), (ok, value) in zip(jobs, writer._run_batch(jobs), strict=True):
                    with lock:
                        if not ok:
                            errors.append(f"{type(value).__name__}: {value}")
                            continue
                        message, created = value
                        results.append(_stored(kwargs["client_id"], message, created))
        except Exception as exc:
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
            loop.close()

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    statements.execute_together = run_together  # type: ignore[assignment]
    return {"results": results, "errors": errors, "failed_batches": failed}


COMMANDS = {"seed": seed, "dump": dump, "race": race, "batches": batches}


def main() -> None:
    _setup()
    command = COMMANDS[sys.argv[1]]
    answer = command(json.loads(sys.stdin.read() or "{}"))
    sys.stdout.write(json.dumps(answer, default=str))


if __name__ == "__main__":
    main()
