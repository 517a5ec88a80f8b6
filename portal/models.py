import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from patients.models import ContactChannel, Language


class Registration(models.Model):
    """A request to open a portal account, waiting for its email address to be confirmed.

    Only the sha256 digest of the emailed token is kept. A request for an address that
    already has a login keeps none of the submitted details and the digest of a token that
    was never sent, so it can never be confirmed (`for_existing_account`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # It becomes the username, whose column holds 150 characters.
    email = models.EmailField(max_length=150)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    for_existing_account = models.BooleanField(
        default=False,
        help_text="The address already had a login: an 'account exists' email was sent instead.",
    )
    legal_first_name = models.CharField(max_length=80, blank=True)
    legal_last_name = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164.")
    preferred_channel = models.CharField(max_length=8, choices=ContactChannel.choices, blank=True)
    consent_sms = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    language = models.CharField(
        max_length=2,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="Chosen on the form: the language of the email and of the patient's record.",
    )
    # A make_password() hash; cleared once the account exists.
    password_hash = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The login created when the address was confirmed.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="registration_expires_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="registration_expires_after_created",
            ),
            models.CheckConstraint(
                condition=Q(preferred_channel="") | Q(preferred_channel__in=ContactChannel.values),
                name="registration_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(for_existing_account=False)
                | Q(
                    legal_first_name="",
                    legal_last_name="",
                    date_of_birth__isnull=True,
                    phone="",
                    password_hash="",
                    verified_at__isnull=True,
                ),
                name="registration_existing_keeps_nothing",
            ),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="registration_language_valid"
            ),
            models.CheckConstraint(
                condition=Q(for_existing_account=True) | Q(date_of_birth__isnull=False),
                name="registration_new_has_details",
            ),
        ]

    def __str__(self) -> str:
        return f"Registration {self.id}"
