"""The Channels tutorial's chat (https://channels.readthedocs.io/en/stable/tutorial/), async
version, with each message saved through the ORM before it is sent to the room's group over
Channels' in-memory layer. Its own settings and ASGI application, served by daphne."""
