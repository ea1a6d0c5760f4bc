"""Server-rendered account pages that allauth does not provide: profile, resend activation."""

from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from allauth.account.views import ConfirmEmailView as AllauthConfirmEmailView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View

from accounts import services
from accounts.forms import ActivationResendForm, ProfileForm
from accounts.models import User
from accounts.selectors_auth import activation_link_state
from happychat.errors import ValidationFailed


class ConfirmEmailView(AllauthConfirmEmailView):
    """allauth's activation page, telling a used link from an expired or broken one."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["link_state"] = (
            "valid" if self.object else activation_link_state(key=self.kwargs["key"])
        )
        ctx["activation_days"] = allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
        return ctx

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        if context.get("link_state") != "valid":
            # The link did nothing; say so to programs too, not only to people.
            response.status_code = 400
        return response


@method_decorator(login_required, name="dispatch")
class ProfileView(View):
    template_name = "accounts/profile.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        form = ProfileForm(
            initial={
                "nickname": user.nickname,
                "bio": user.bio,
                "gender": user.gender,
                "region": user.region,
            }
        )
        return render(request, self.template_name, {"form": form, "profile": user})

    def post(self, request: HttpRequest) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.user_profile_update(
                    user=user,
                    nickname=data["nickname"],
                    bio=data["bio"],
                    gender=data["gender"],
                    region=data["region"],
                    avatar=data.get("avatar"),
                )
            except ValidationFailed as exc:
                for field, errors in exc.extra.get("errors", {}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Your profile has been saved."))
                return redirect("profile")
        user.refresh_from_db()
        return render(request, self.template_name, {"form": form, "profile": user}, status=400)


class ActivationResendView(View):
    template_name = "account/activation_resend.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ActivationResendForm(initial={"email": request.GET.get("email", "")})
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ActivationResendForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        services.activation_resend(email=form.cleaned_data["email"], request=request)
        messages.info(
            request,
            _(
                "If %(email)s belongs to an account that is not activated yet, a new "
                "activation link is on its way. Links already sent keep working."
            )
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("account_login")


class AdminLogoutView(View):
    """The admin's logout, through the same adapter as everyone's: the sockets close too."""

    def post(self, request: HttpRequest) -> HttpResponse:
        get_adapter(request).logout(request)
        return redirect("admin:login")
