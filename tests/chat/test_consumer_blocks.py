"""A block hides presence and typing both ways, on live sockets and on new ones."""

import pytest
from asgiref.sync import sync_to_async

from friends.services import user_block, user_unblock
from tests.chat.conftest import drain, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(frames, kind):
    return [f for f in frames if f["type"] == kind]


async def test_a_block_hides_presence_and_typing_both_ways_at_once(alice, bob, direct, connect):
    ann, ben = await connect(alice), await connect(bob)
    assert (await receive_type(ann, "presence"))["online"] is True  # ben came online
    await sync_to_async(user_block)(user=alice, blocked_id=bob.pk)
    # Each side sees the other go offline, once.
    assert await receive_type(ann, "presence") == {
        "type": "presence",
        "user": bob.pk,
        "online": False,
    }
    assert await receive_type(ben, "presence") == {
        "type": "presence",
        "user": alice.pk,
        "online": False,
    }
    await drain(ann)
    await drain(ben)
    for sender, receiver in ((ann, ben), (ben, ann)):
        await sender.send_json_to({"type": "typing", "conversation": direct.pk})
        assert kinds(await drain(receiver, 0.3), "typing") == []
    # Coming and going is not shown either, and a new socket is not told.
    phone = await connect(bob)
    await phone.disconnect()
    assert kinds(await drain(ann, 0.3), "presence") == []
    fresh = await connect(alice, hello=False)
    await receive_type(fresh, "hello")
    assert kinds(await drain(fresh, 0.3), "presence") == []


async def test_unblocking_shows_presence_and_typing_again(alice, bob, direct, connect):
    await sync_to_async(user_block)(user=alice, blocked_id=bob.pk)
    ann, ben = await connect(alice), await connect(bob)
    await drain(ann)
    await drain(ben)
    await sync_to_async(user_unblock)(user=alice, blocked_id=bob.pk)
    assert await receive_type(ann, "presence") == {
        "type": "presence",
        "user": bob.pk,
        "online": True,
    }
    assert (await receive_type(ben, "presence"))["user"] == alice.pk
    await ben.send_json_to({"type": "typing", "conversation": direct.pk})
    assert (await receive_type(ann, "typing"))["user"] == bob.pk


async def test_a_block_either_way_hides_until_both_are_lifted(alice, bob, direct, connect):
    await sync_to_async(user_block)(user=alice, blocked_id=bob.pk)
    await sync_to_async(user_block)(user=bob, blocked_id=alice.pk)
    ann, ben = await connect(alice), await connect(bob)
    await drain(ann)
    await sync_to_async(user_unblock)(user=alice, blocked_id=bob.pk)
    await ben.send_json_to({"type": "typing", "conversation": direct.pk})
    assert kinds(await drain(ann, 0.3), "typing") == []
    assert kinds(await drain(ann, 0.1), "presence") == []


async def test_a_block_hides_typing_in_a_shared_group_too(alice, bob, carol, trio, connect):
    await sync_to_async(user_block)(user=alice, blocked_id=bob.pk)
    ann, cat = await connect(alice), await connect(carol)
    ben = await connect(bob)
    await drain(ann)
    await drain(cat)
    await ben.send_json_to({"type": "typing", "conversation": trio.pk})
    assert (await receive_type(cat, "typing"))["user"] == bob.pk
    assert kinds(await drain(ann, 0.3), "typing") == []
