"""Forms of the account pages. They parse input; the rules live in portal/accounts.py."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from clinic.core.errors import ValidationFailed
from patients.models import ContactChannel, Language

from . import accounts

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes(value: str) -> bool:
    return value == "yes"


def _yes_no(label: "StrOrPromise", help_text: "StrOrPromise") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages={"required": _("Choose yes or no.")},
    )


def add_service_errors(form: forms.Form, error: ValidationFailed) -> None:
    """Put a service's field errors next to the form's fields (unknown ones on top)."""
    for field, messages in error.fields.items():
        target = field if field in form.fields else None
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(target, str(message))
    if not error.fields:
        form.add_error(None, error.detail)


def _page_language() -> str:
    language = translation.get_language() or Language.ENGLISH
    return language if language in Language.values else Language.ENGLISH


class AccountForm(forms.Form):
    """Labels without a trailing colon, as the rest of the patient pages show them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RegistrationForm(AccountForm):
    legal_first_name = forms.CharField(
        label=_("Legal first name"),
        max_length=accounts.NAME_MAX_LENGTH,
        error_messages={"required": _("Enter your legal first name.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    legal_last_name = forms.CharField(
        label=_("Legal last name"),
        max_length=accounts.NAME_MAX_LENGTH,
        error_messages={"required": _("Enter your legal last name.")},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        input_formats=DATE_INPUT_FORMATS,
        help_text=_("For example 1970-03-21 or 03/21/1970."),
        error_messages={
            "required": _("Enter your date of birth."),
            "invalid": _("Enter a real date, for example 1970-03-21."),
        },
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=accounts.EMAIL_MAX_LENGTH,
        help_text=_("You will sign in with it. We send a link to confirm it."),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address such as name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile or home phone (optional)"),
        max_length=32,
        required=False,
        help_text=_("Needed for text messages or calls. For example (919) 555-0123."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    preferred_channel = forms.ChoiceField(
        label=_("How should we contact you?"),
        choices=ContactChannel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how we should contact you.")},
    )
    consent_sms = _yes_no(
        _("May we send you text messages?"),
        _("Appointment reminders and follow-up questions. Message and data rates may apply."),
    )
    consent_email = _yes_no(
        _("May we send you email?"), _("Appointment reminders and follow-up questions.")
    )
    language = forms.ChoiceField(
        label=_("Language for your pages, emails and text messages"),
        choices=Language.choices,
        widget=forms.RadioSelect,
        required=False,  # a form without it: the language the page is shown in
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=" ".join(password_validation.password_validators_help_texts()),
        error_messages={"required": _("Choose a password.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        error_messages={"required": _("Type the password again.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = _page_language()
        # Django's own help texts, in the page's language (not the one at import).
        self.fields["password"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["language"] = data.get("language") or _page_language()
        password, again = data.get("password"), data.get("password_confirm")
        if password and again and password != again:
            self.add_error("password_confirm", _("The two passwords do not match."))
        return data

    def service_arguments(self) -> dict:
        """The cleaned data as registration_start takes it."""
        data = dict(self.cleaned_data)
        data.pop("password_confirm", None)
        return data


class VerifyForm(forms.Form):
    """The confirmation button: a POST, so that link scanners opening the email's link do
    not create the account."""


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form, plus one email to an address without a usable login, so that
    known and unknown addresses both get exactly one email and the same page."""

    unknown_email_template_name = "registration/password_reset_unknown_email.txt"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Email address")
        self.fields["email"].error_messages = {
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address such as name@example.com."),
        }
        self.matched_users = 0

    def get_users(self, email):
        users = list(super().get_users(email))
        self.matched_users = len(users)
        return users

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.matched_users:
            subject_template = kwargs.get(
                "subject_template_name", "registration/password_reset_subject.txt"
            )
            context = accounts.email_context(**(kwargs.get("extra_email_context") or {}))
            subject = "".join(render_to_string(subject_template, context).splitlines())
            accounts.password_reset_unknown_notify(
                email=self.cleaned_data["email"],
                subject=subject,
                template=self.unknown_email_template_name,
            )


class PortalSetPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )
        self.fields["new_password2"].label = _("Repeat the new password")
