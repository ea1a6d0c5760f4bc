"""The tutorial's ChatConsumer (part 3, "Rewrite Chat Server as Asynchronous"), saving each
message with the ORM before the group send."""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Message


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        text_data_json = json.loads(text_data or "")
        message = text_data_json["message"]
        client_id = text_data_json["id"]
        await self.save_message(message, client_id)
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message, "id": client_id}
        )

    @database_sync_to_async
    def save_message(self, message: str, client_id: str) -> None:
        Message.objects.create(room=self.room_name, client_id=client_id, body=message)

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"message": event["message"], "id": event["id"]}))
