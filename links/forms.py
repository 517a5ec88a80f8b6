from django import forms
from django.utils.translation import gettext_lazy as _

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]


class BirthDateForm(forms.Form):
    """The second check before a visit's link shows or changes anything."""

    date_of_birth = forms.DateField(
        label=_("Your date of birth"),
        input_formats=DATE_INPUT_FORMATS,
        help_text=_("For example 1970-03-21 or 03/21/1970."),
        error_messages={
            "required": _("Enter your date of birth."),
            "invalid": _("Enter a real date, for example 1970-03-21."),
        },
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
