from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

NAVIGATION: dict[Role, list[tuple["StrOrPromise", str]]] = {
    Role.FRONT_DESK: [
        ("Day board", "scheduling:day-board"),
        ("Waitlist", "scheduling:waitlist"),
        ("Patients", "patients:list"),
        ("Procedures", "procedures:orders"),
        ("Pump refills", "scheduling:pump-refills"),
        ("Failed messages", "notifications:failed"),
    ],
    Role.CLINICIAN: [
        ("Worklist", "history:worklist"),
        ("My patients", "history:my-patients"),
        ("Day board", "scheduling:day-board"),
        ("Procedures", "procedures:orders"),
        ("Pump refills", "scheduling:pump-refills"),
        ("Reports", "reports:index"),
    ],
    Role.MANAGER: [
        ("Overview", "overview:home"),
        ("Day board", "scheduling:day-board"),
        ("Waitlist", "scheduling:waitlist"),
        ("Patients", "patients:list"),
        ("Procedures", "procedures:orders"),
        ("Pump refills", "scheduling:pump-refills"),
        ("Failed messages", "notifications:failed"),
        ("Reports", "reports:index"),
        ("Audit log", "overview:audit-log"),
        ("Sign-ins", "overview:sign-ins"),
        ("Administration", "admin:index"),
        ("API docs", "api-docs"),
    ],
    Role.PATIENT: [
        # The only translated navigation: staff pages stay English.
        (_("My portal"), "portal:home"),
        (_("Book a visit"), "portal:book"),
        (_("My appointments"), "portal:appointments"),
        (_("Waiting list"), "portal:waitlist"),
    ],
}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation links of the signed-in user's role, for the base layout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": [], "user_role": None, "clinic_name": settings.CLINIC_NAME}
    role = user.role
    # A session still owing its second factor reaches no page: it is shown none.
    pending = getattr(request, "second_factor_pending", False)
    pages = [] if pending else [(label, reverse(name)) for label, name in NAVIGATION.get(role, [])]
    # The longest matching address is the current page (/portal/book/ is not also /portal/).
    matching = [url for _, url in pages if request.path.startswith(url)]
    current = max(matching, key=len, default=None)
    links = [{"label": label, "url": url, "active": url == current} for label, url in pages]
    return {
        "nav_links": links,
        "user_role": role,
        "clinic_name": settings.CLINIC_NAME,
        "second_factor_pending": pending,
    }
