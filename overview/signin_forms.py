from django import forms


class LiftPauseForm(forms.Form):
    """Lift the sign-in pause of an account, of an address, or both."""

    username = forms.CharField(required=False, max_length=255)
    address = forms.GenericIPAddressField(required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("username") and not data.get("address"):
            raise forms.ValidationError("Name an account or an address.")
        return data
