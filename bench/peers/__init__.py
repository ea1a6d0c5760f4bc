"""Benchmark peers: other chat servers driven by bench/loadgen.py next to HappyChat.

relay.py             a bare `websockets` relay (stores nothing): the ceiling of the machine
channels_tutorial/   the Channels tutorial's chat, plus an ORM save of every message
socketio/            a Node socket.io chat server (npm, pinned by package-lock.json)

bench/targets.py starts and stops them; the load generator speaks to each through a thin
adapter (bench/loadgen.py).
"""
