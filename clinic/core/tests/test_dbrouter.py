"""Which database a read goes to (clinic/core/dbrouter.py): the replica only where a view
asks for it, and never for a client that has just written. tests/test_replica.py runs the
same against a real primary and replica."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from clinic.core.dbrouter import (
    RECENT_WRITE_COOKIE,
    PrimaryReplicaRouter,
    ReadYourWritesMiddleware,
    read_alias,
    reading_from_primary,
    reading_from_replica,
)
from clinic.users.models import User


@pytest.fixture
def replica(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replica in the settings; these tests never connect to it."""
    monkeypatch.setitem(settings.DATABASES, "replica", dict(settings.DATABASES["default"]))


def answering(status: int):
    """A view that answers `status` and notes where a replica-reading selector would read."""
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        with reading_from_replica():
            seen.append(read_alias())
        return HttpResponse(status=status)

    return view, seen


def test_without_a_replica_everything_reads_the_primary():
    with reading_from_replica():
        assert read_alias() == "default"
    view, seen = answering(201)
    response = ReadYourWritesMiddleware(view)(RequestFactory().post("/book/"))
    assert seen == ["default"] and RECENT_WRITE_COOKIE not in response.cookies


def test_only_reads_that_ask_go_to_the_replica(replica):
    assert read_alias() == "default"
    with reading_from_replica():
        assert read_alias() == "replica"
        with reading_from_primary():
            assert read_alias() == "default"
    router = PrimaryReplicaRouter()
    with reading_from_replica():
        assert router.db_for_write(User) == "default"
    assert router.allow_migrate("replica", "scheduling") is False


@pytest.mark.django_db
def test_a_read_inside_a_transaction_stays_on_the_primary(replica):
    with reading_from_replica():  # the test's own transaction is open
        assert read_alias() == "default"


def test_a_client_that_wrote_reads_the_primary_for_a_while(replica):
    factory = RequestFactory()
    post, during_post = answering(201)
    wrote = ReadYourWritesMiddleware(post)(factory.post("/book/"))
    assert during_post == ["default"]
    cookie = wrote.cookies[RECENT_WRITE_COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == settings.READ_YOUR_WRITES_SECONDS

    get, seen = answering(200)
    with_cookie = factory.get("/availability/")
    with_cookie.COOKIES[RECENT_WRITE_COOKIE] = cookie.value
    ReadYourWritesMiddleware(get)(with_cookie)
    ReadYourWritesMiddleware(get)(factory.get("/availability/"))  # another client
    later = timezone.now() + timedelta(seconds=settings.READ_YOUR_WRITES_SECONDS + 1)
    with time_machine.travel(later):
        ReadYourWritesMiddleware(get)(with_cookie)
    forged = factory.get("/availability/")
    forged.COOKIES[RECENT_WRITE_COOKIE] = "1"
    ReadYourWritesMiddleware(get)(forged)
    assert seen == ["default", "replica", "replica", "replica"]


def test_a_refused_write_leaves_the_client_on_the_replica(replica):
    post, during_post = answering(409)
    refused = ReadYourWritesMiddleware(post)(RequestFactory().post("/book/"))
    assert during_post == ["default"] and RECENT_WRITE_COOKIE not in refused.cookies
