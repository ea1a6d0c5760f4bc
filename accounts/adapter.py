"""django-allauth hooks that route browser account flows through `accounts.services`."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.http import HttpRequest

from accounts import services
from accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    """Registration mails its own activation link; passwords and logouts revoke sockets."""

    def should_send_confirmation_mail(
        self, request: HttpRequest, email_address: EmailAddress, signup: bool
    ) -> bool:
        # `services.user_register` already mailed the link at signup; a later sign-in
        # attempt on an inactive account sends a fresh one (rate limited by allauth).
        return not signup

    def set_password(self, user: Any, password: str) -> None:
        services.user_password_set(user=user, password=password)

    def logout(self, request: HttpRequest) -> None:
        user = request.user
        session_key = request.session.session_key
        super().logout(request)
        if isinstance(user, User):
            services.session_revoke(user=user, session_key=session_key)
