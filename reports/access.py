"""Who reads which report: managers every report; clinicians the ones written for them."""

from typing import Any

from rest_framework.permissions import BasePermission

from clinic.users.roles import Role

from .registry import REPORTS, Audience, Report

READERS: dict[Audience, frozenset[Role]] = {
    Audience.MANAGERS: frozenset({Role.MANAGER}),
    Audience.CLINICIANS: frozenset({Role.MANAGER, Role.CLINICIAN}),
}
REPORT_ROLES = (Role.MANAGER, Role.CLINICIAN)


def may_read(user: Any, report: Report) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*READERS[report.audience]))


def readable_reports(user: Any) -> list[Report]:
    return [report for report in REPORTS.values() if may_read(user, report)]


class ReadsReports(BasePermission):
    """DRF permission: a role that reads at least one kind of report."""

    message = "Your role does not give access to reports."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(*REPORT_ROLES))
