"""The HTML email fits a 390-px phone: nothing wider than the screen, buttons big enough to
tap, text at a readable size."""

import pytest

from notifications.email_html import email_html

pytestmark = pytest.mark.browser

BODY = (
    "Hello Rosa,\n\n"
    "Your visit is booked for Monday 7 December at 9:30 a.m. at Front Range Pain, Boulder "
    "with Dr. Maya Okafor.\n\n"
    "You can see your visits here: https://clinic.example.org/portal/\n\n"
    "If you have a question, call us at (303) 555-0100.\n"
    "Front Range Pain, 1200 Pearl Street, Boulder, CO 80302"
)


def test_the_email_fits_a_phone_and_its_buttons_are_tappable(page):
    page.set_content(email_html(BODY, subject="Your visit is booked"))
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    button = page.get_by_role("link", name="You can see your visits here")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 40 and box["x"] + box["width"] <= width
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('p')).fontSize)")
    assert size >= 16
