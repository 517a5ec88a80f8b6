"""Every model has an admin screen that a manager can open."""

import pytest
from django.contrib import admin
from django.urls import reverse

from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"users", "patients", "procedures", "scheduling", "portal", "core"}


def test_every_project_model_is_registered():
    """Edit-history rows (django-pghistory's event models) are shown on their rule's own
    history page instead."""
    from django.apps import apps
    from pghistory.models import Event

    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in PROJECT_APPS and not issubclass(m, Event)
    ]
    missing = [m._meta.label for m in models if m not in admin.site._registry]
    assert missing == []


def test_every_changelist_opens_for_an_administrator(client, make_user):
    from clinic.users.roles import Role

    PatientFactory()
    client.sign_in(make_user("root", Role.MANAGER, is_superuser=True))
    for model in admin.site._registry:
        if model._meta.app_label not in PROJECT_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def test_a_manager_without_superuser_reaches_the_patient_admin(client, manager_user):
    client.sign_in(manager_user)
    patient = PatientFactory()
    assert client.get(reverse("admin:patients_patient_changelist")).status_code == 200
    change = reverse("admin:patients_patient_change", args=[patient.pk])
    assert client.get(change).status_code == 200


def test_front_desk_has_no_admin_site(client, front_desk_user):
    client.sign_in(front_desk_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
