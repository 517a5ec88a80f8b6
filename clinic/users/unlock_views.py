"""The owner's way past a sign-in pause: ask for an emailed unlock link, then use it
(clinic/users/unlock.py does the work)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.core.ratelimit import limit_posts

from .signin_limits import mark_unlocked_in_this_browser
from .unlock import UnlockLinkInvalid, signin_unlock_check, signin_unlock_request, signin_unlock_use
from .unlock_forms import UnlockRequestForm


@require_http_methods(["GET", "POST"])
@never_cache
@limit_posts("unlock", account_field="named")
def unlock_request(request: HttpRequest) -> HttpResponse:
    """The same redirect follows every accepted form, whether or not an account matches."""
    form = UnlockRequestForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        signin_unlock_request(named=form.cleaned_data["named"])
        return redirect("signin-unlock-sent")
    status = 400 if form.is_bound else 200
    return render(request, "users/unlock_request.html", {"form": form}, status=status)


def unlock_sent(request: HttpRequest) -> HttpResponse:
    minutes = settings.SIGNIN_UNLOCK_LINK_MINUTES
    return render(request, "users/unlock_sent.html", {"minutes": minutes})


def _token_page(response: HttpResponse) -> HttpResponse:
    # The token is in this page's URL: never send it to another site in a Referer.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "POST"])
@never_cache
def unlock_use(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only its POST uses the link (link scanners only GET)."""
    try:
        if request.method == "POST":
            user = signin_unlock_use(token=token)
            mark_unlocked_in_this_browser(request, username=user.get_username())
            return _token_page(render(request, "users/unlock_done.html"))
        signin_unlock_check(token=token)
    except UnlockLinkInvalid as exc:
        context = {"detail": exc.detail}
        return _token_page(
            render(request, "users/unlock_invalid.html", context, status=exc.status_code)
        )
    return _token_page(render(request, "users/unlock_confirm.html"))
