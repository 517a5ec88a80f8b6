"""Typed access to a bound form's fields: `form.fields` holds plain `Field`s to a type checker."""

from typing import Any

from django import forms


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's own copy of the choice field `name`, to set its choices for this form."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field.")
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> "forms.ModelChoiceField[Any]":
    """The form's own copy of the model choice field `name`, to set its queryset for this form."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a model choice field.")
    return field


def error_messages(form: forms.BaseForm) -> list[str]:
    """Every message of a bound form's errors, field after field."""
    return [str(message) for messages in form.errors.values() for message in messages]


def focus_first_error(form: forms.BaseForm) -> None:
    """Give the first field with an error `autofocus`: a page shown again with errors opens
    on that field, scrolled to it, even far down the page (no script: the CSP allows none
    inline, and a #fragment would not move the focus)."""
    for name, field in form.fields.items():
        if name in form.errors and not field.widget.is_hidden:
            field.widget.attrs["autofocus"] = True
            return
