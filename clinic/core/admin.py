"""The admin never writes around a service. Domain rows (appointments, orders, records,
messages, offers, intakes) are shown read-only; the only way to change one is an admin
action that asks for what the service needs (a reason, a new time) and calls it."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from clinic.core.errors import DomainError, ValidationFailed

Perform = Callable[[Any, dict[str, Any]], object]


class ServiceOnlyAdmin(admin.ModelAdmin):
    """Read-only rows whose changes go through the actions, each calling a service."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_act_permission(self, request: HttpRequest) -> bool:
        """May run the actions: whoever the roles give the model's change permission."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


def service_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    form_class: type[forms.Form],
    title: str,
    perform: Perform,
    done: str,
) -> HttpResponse | None:
    """An admin action that first asks for the service's arguments on a page of its own,
    then calls `perform(row, cleaned_data)` for each selected row. A refusal of the
    service (a conflict, a field error) is shown as a message for that row, never a 500."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        succeeded = _perform_each(modeladmin, request, queryset, form.cleaned_data, perform)
        if succeeded:
            modeladmin.message_user(request, f"{succeeded} {done}.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.opts,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/clinic/service_action.html", context)


def _perform_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    data: dict[str, Any],
    perform: Perform,
) -> int:
    succeeded = 0
    for row in queryset:
        try:
            perform(row, data)
        except DomainError as error:
            modeladmin.message_user(request, f"{row}: {_refusal(error)}", messages.ERROR)
        else:
            succeeded += 1
    return succeeded


def _refusal(error: DomainError) -> str:
    if isinstance(error, ValidationFailed) and error.fields:
        return " ".join(f"{field}: {_texts(texts)}" for field, texts in error.fields.items())
    return str(error.detail)


def _texts(texts: object) -> str:
    return " ".join(map(str, texts)) if isinstance(texts, list) else str(texts)
