"""The load test's users (issue 16, point 8), run by bench/load.py in locust's own virtualenv
(.venv-bench: it imports nothing of the clinic). What they act on comes from the JSON file
named by LOAD_PLAN (written by bench/load.py): ids, API tokens and session cookies.

- Front desk (weight 3): the day board page, and a booking through the API of a free slot
  of its own provider (distinct slots; a 409 is a right answer, not an error).
- Patient (weight 2): the portal's booking through the API: the free times of one day,
  book the first, then cancel it (so the online-booking cap never refuses the next).
- Physician (weight 1): a patient's history page.

Staff pages use a session made server-side by bench/load.py (password and second factor
already passed, as django-otp records it), sent as a Cookie header: the production settings
mark the cookie Secure, which a client on plain http would not send back.
"""

import itertools
import json
import os
import random
import threading

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115 - read once at import
PROXY = {"X-Forwarded-Proto": "https"}
_next_slot = itertools.count()
_slot_lock = threading.Lock()


def next_desk_slot() -> dict:
    with _slot_lock:
        number = next(_next_slot)
    slots = PLAN["desk_slots"]
    return slots[number % len(slots)]


def staff_page(client, path: str, headers: dict, name: str) -> None:
    """A staff page counts only as itself: a redirect (to the sign-in page, were the session
    refused) is a failure, not a fast answer."""
    with client.get(
        path, headers=headers, name=name, allow_redirects=False, catch_response=True
    ) as response:
        if response.status_code != 200 or 'data-role="' not in response.text:
            response.failure(f"{response.status_code}: not the page ({len(response.text)} bytes)")


class FrontDesk(HttpUser):
    weight = 3
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.page_headers = PROXY | {"Cookie": f"sessionid={PLAN['desk_session']}"}
        self.api_headers = PROXY | {"Authorization": f"Token {PLAN['desk_token']}"}

    @task(2)
    def day_board(self) -> None:
        staff_page(self.client, PLAN["board_path"], self.page_headers, "desk: day board")

    @task(1)
    def book(self) -> None:
        with self.client.post(
            "/api/v1/appointments/",
            json=next_desk_slot(),
            headers=self.api_headers,
            name="desk: book (API)",
            catch_response=True,
        ) as response:
            if response.status_code in (201, 409):
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:300]}")


class Patient(HttpUser):
    weight = 2
    wait_time = between(2, 5)

    def on_start(self) -> None:
        me = random.choice(PLAN["patients"])
        self.headers = PROXY | {"Authorization": f"Token {me['token']}"}

    @task
    def book_and_cancel(self) -> None:
        query = PLAN["availability_query"] | {"start": random.choice(PLAN["patient_days"])}
        query["end"] = query["start"]
        with self.client.get(
            "/api/v1/availability/",
            params=query,
            headers=self.headers,
            name="portal: free times",
            catch_response=True,
        ) as response:
            slots = response.json() if response.status_code == 200 else []
        if not slots:
            return
        slot = random.choice(slots[:20])
        body = {
            "appointment_type": PLAN["availability_query"]["appointment_type"],
            "provider": slot["provider"],
            "location": slot["location"],
            "room": slot["room"],
            "start": slot["start"],
        }
        with self.client.post(
            "/api/v1/appointments/",
            json=body,
            headers=self.headers,
            name="portal: book (API)",
            catch_response=True,
        ) as response:
            if response.status_code == 409:
                response.success()  # another user took it first: a right answer
                return
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:300]}")
                return
        visit = response.json()["id"]
        self.client.post(
            f"/api/v1/appointments/{visit}/cancel/",
            json={"reason": "Load test"},
            headers=self.headers,
            name="portal: cancel (API)",
        )


class Physician(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.headers = PROXY | {"Cookie": f"sessionid={PLAN['clinician_session']}"}

    @task
    def history(self) -> None:
        patient = random.choice(PLAN["history_patients"])
        staff_page(self.client, f"/patients/{patient}/history/", self.headers, "physician: history")
