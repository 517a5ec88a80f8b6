"""The managers' view of failed sign-ins (django-axes' failure log), and lifting a pause."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clinic.users.access import role_required, signed_in_user
from clinic.users.actor import Actor
from clinic.users.roles import Role
from clinic.users.selectors import signin_counted_failures, signin_failures
from clinic.users.unlock import signin_pause_lift

from .filters import SignInFailureFilter
from .signin_forms import LiftPauseForm

LISTED = 100


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def sign_ins(request: HttpRequest) -> HttpResponse:
    """GET lists the newest failures; POST (the search form) the newest that match."""
    data = request.POST if request.method == "POST" else None
    search = SignInFailureFilter(data, queryset=signin_failures())
    valid = not search.is_bound or search.is_valid()
    failures = list(search.qs[:LISTED]) if valid else []
    context = {
        "search": search,
        "failures": failures,
        "listed": LISTED,
        "counted": signin_counted_failures(),
    }
    return render(request, "overview/sign_ins.html", context, status=200 if valid else 400)


@role_required(Role.MANAGER)
@require_POST
def sign_in_pause_lift(request: HttpRequest) -> HttpResponse:
    form = LiftPauseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name an account or an address whose pause to lift.")
        return redirect("overview:sign-ins")
    forgotten = signin_pause_lift(
        actor=Actor.desk(signed_in_user(request)),
        username=form.cleaned_data["username"],
        address=form.cleaned_data["address"],
    )
    messages.success(
        request, f"Sign-in pause lifted: {forgotten} counted failure record(s) forgotten."
    )
    return redirect("overview:sign-ins")
