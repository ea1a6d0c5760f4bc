"""Browser forms: allauth's signup with a nickname, the profile, resending activation."""

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import User


class SignupForm(AllauthSignupForm):
    """allauth's signup form, validated and saved by `services.user_register`."""

    nickname = forms.CharField(
        label=_("Nickname (optional)"),
        max_length=services.NICKNAME_MAX,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Nickname (optional)")}),
    )

    field_order = ["username", "email", "nickname", "password1", "password2"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        errors = services.user_register_check(
            username=cleaned.get("username", ""),
            email=cleaned.get("email", ""),
            password=cleaned.get("password1", ""),
            nickname=cleaned.get("nickname", ""),
        )
        for field, messages in errors.items():
            target = "password1" if field == "password" else field
            if target in self.errors:
                continue  # allauth already said what is wrong with this field
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
        # The check above reports a taken address; never fall into allauth's silent path.
        self.account_already_exists = False
        return cleaned

    def save(self, request: HttpRequest) -> User:
        data = self.cleaned_data
        return services.user_register(
            username=data["username"],
            email=data["email"],
            password=data["password1"],
            nickname=data.get("nickname", ""),
            request=request,
        )


class ProfileForm(forms.Form):
    """The editable profile; the avatar is verified by the service, not by this form."""

    nickname = forms.CharField(
        label=_("Nickname"), max_length=services.NICKNAME_MAX, required=False
    )
    bio = forms.CharField(
        label=_("About me"),
        max_length=services.BIO_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=User.Gender.choices)
    region = forms.CharField(label=_("Region"), max_length=services.REGION_MAX, required=False)
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=_("JPEG, PNG, GIF or WebP, at most 10 MB. It is cropped to a square."),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
    )


class ActivationResendForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
