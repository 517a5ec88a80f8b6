from django import forms


class UnlockRequestForm(forms.Form):
    named = forms.CharField(
        label="Username or email address",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
