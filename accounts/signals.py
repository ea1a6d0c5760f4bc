"""What accounts announces to the apps above it, which subscribe in their `AppConfig.ready`.

accounts is the bottom app: it never imports chat, friends, groups or the robot. A
receiver runs inside the sender's transaction, so its writes commit or roll back with it.
"""

from django.dispatch import Signal

# Sent by `user_register` inside its transaction, with `user`. The robot opens the new
# user's robot conversation here.
user_registered = Signal()
