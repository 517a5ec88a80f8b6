from django import forms
from django.utils.translation import gettext_lazy as _


class UnlockRequestForm(forms.Form):
    named = forms.CharField(
        label=_("Username or email address"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
