"""The managers' chart-access log: rows, filters, pages, who may see it; the admin's
read-only list."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site as admin_site
from django.urls import reverse
from django.utils import timezone

from clinic.audit.admin import ChartAccessAdmin
from clinic.audit.models import ChartAccess
from clinic.audit.services import chart_access_record
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

URL = "/history/access-log/"


@pytest.fixture
def log(clinician_user, make_user):
    """Three accesses: two by doc1 to Rosa's chart, one by drkim to Ines's."""
    from clinic.users.roles import Role

    other = make_user("drkim", Role.CLINICIAN, first_name="Kim", last_name="Park")
    rosa = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    ines = PatientFactory(legal_first_name="Ines", legal_last_name="Lopez")
    rows = [
        chart_access_record(user=clinician_user, patient=rosa, via="page"),
        chart_access_record(user=clinician_user, patient=rosa, via="print"),
        chart_access_record(user=other, patient=ines, via="api"),
    ]
    # auto_now_add: spread them out afterwards so the order is known (newest first).
    now = timezone.now()
    for age, access in zip((3, 2, 1), rows, strict=True):
        ChartAccess.objects.filter(pk=access.pk).update(accessed_at=now - timedelta(hours=age))
    return {"rosa": rosa, "ines": ines, "rows": rows, "other": other}


def signed_in(client, user):
    client.force_login(user)
    return client


class TestPage:
    def test_a_manager_sees_who_whose_when_and_how_newest_first(self, client, manager_user, log):
        response = signed_in(client, manager_user).get(URL)
        assert response.status_code == 200
        shown = list(response.context["page"].object_list)
        assert [a.pk for a in shown] == [a.pk for a in reversed(log["rows"])]
        body = response.content.decode()
        assert "Rosa Quintero" in body and f"MRN {log['rosa'].mrn}" in body
        assert "Kim Park" in body and "(drkim, Clinician)" in body
        for via in ("page", "print", "api"):
            assert f'<td data-label="Via">{via}</td>' in body

    def test_filter_by_mrn(self, client, manager_user, log):
        response = signed_in(client, manager_user).get(URL, {"mrn": f" {log['rosa'].mrn} "})
        shown = response.context["page"].object_list
        assert {a.patient_id for a in shown} == {log["rosa"].pk}
        assert len(shown) == 2
        assert "Ines Lopez" not in response.content.decode()

    def test_filter_by_username_in_any_case(self, client, manager_user, log):
        response = signed_in(client, manager_user).get(URL, {"user": "DRKIM"})
        assert [a.pk for a in response.context["page"].object_list] == [log["rows"][2].pk]

    def test_both_filters_together(self, client, manager_user, log):
        response = signed_in(client, manager_user).get(
            URL, {"mrn": log["rosa"].mrn, "user": "drkim"}
        )
        assert list(response.context["page"].object_list) == []
        assert "No chart access matches" in response.content.decode()

    def test_empty_log(self, client, manager_user):
        body = signed_in(client, manager_user).get(URL).content.decode()
        assert "No chart has been opened yet." in body

    def test_a_hundred_a_page_in_a_fixed_number_of_queries(
        self, client, manager_user, clinician_user, django_assert_num_queries
    ):
        patient = PatientFactory()
        ChartAccess.objects.bulk_create(
            ChartAccess(user=clinician_user, patient=patient, via="page") for _ in range(101)
        )
        client = signed_in(client, manager_user)
        # session, user, the manager's role groups; count, the page, the users' groups.
        with django_assert_num_queries(6):
            first = client.get(URL)
        with django_assert_num_queries(6):
            second = client.get(URL, {"page": 2})
        assert len(first.context["page"].object_list) == 100
        assert len(second.context["page"].object_list) == 1
        assert "Page 1 of 2" in first.content.decode()
        assert 'href="?mrn=&amp;user=&amp;page=2"' in first.content.decode()

    def test_url_name(self):
        assert reverse("history:access-log") == URL

    @pytest.mark.parametrize("role", ["clinician_user", "front_desk_user", "patient_user"])
    def test_other_roles_get_403(self, client, request, role, log):
        response = signed_in(client, request.getfixturevalue(role)).get(URL)
        assert response.status_code == 403
        assert "Quintero" not in response.content.decode()

    def test_anonymous_goes_to_the_login_page(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


class TestAdmin:
    def test_registered_and_read_only(self, rf, admin_user):
        model_admin = admin_site._registry[ChartAccess]
        assert isinstance(model_admin, ChartAccessAdmin)
        request = rf.get("/")
        request.user = admin_user  # a superuser: even they cannot write the log
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert "delete_selected" not in model_admin.get_actions(request)

    def test_list_and_detail_can_be_read(self, admin_client, log):
        changelist = admin_client.get(reverse("admin:audit_chartaccess_changelist"))
        assert changelist.status_code == 200
        assert log["rosa"].mrn in changelist.content.decode()
        access = log["rows"][0]
        detail = admin_client.get(reverse("admin:audit_chartaccess_change", args=[access.pk]))
        assert detail.status_code == 200
        assert 'name="_save"' not in detail.content.decode()

    def test_nothing_can_be_added_changed_or_deleted(self, admin_client, log):
        access = log["rows"][0]
        add = admin_client.get(reverse("admin:audit_chartaccess_add"))
        change = admin_client.post(
            reverse("admin:audit_chartaccess_change", args=[access.pk]), {"via": "api"}
        )
        delete = admin_client.post(
            reverse("admin:audit_chartaccess_delete", args=[access.pk]), {"post": "yes"}
        )
        assert add.status_code == 403
        assert change.status_code == 403
        assert delete.status_code == 403
        access.refresh_from_db()
        assert access.via == "page"
        assert ChartAccess.objects.count() == 3

    def test_a_manager_reads_it_in_the_admin(self, client, manager_user, log):
        manager_user.is_staff = True
        manager_user.save(update_fields=["is_staff"])
        response = signed_in(client, manager_user).get(
            reverse("admin:audit_chartaccess_changelist")
        )
        assert response.status_code == 200
