# The notifications tests' site (a provider working every day) and emptied outboxes.
from notifications.tests.conftest import empty_outboxes, site  # noqa: F401
