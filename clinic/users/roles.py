"""Roles are Django groups. This module is the one place that says what each role may do."""

from django.db import models


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    CLINICIAN = "clinician", "Clinician"
    FRONT_DESK = "front_desk", "Front desk"
    PATIENT = "patient", "Patient"


STAFF_ROLES = frozenset({Role.MANAGER, Role.CLINICIAN, Role.FRONT_DESK})
# Who may read and write clinical data: diagnoses, medications, procedures, notes.
CLINICAL_ROLES = frozenset({Role.CLINICIAN, Role.MANAGER})

# When a user holds several groups, the first role in this order wins.
ROLE_PRIORITY = [Role.MANAGER, Role.CLINICIAN, Role.FRONT_DESK, Role.PATIENT]

GROUP_NAME_TO_ROLE = {role.label: role for role in Role}

ALL = ("view", "add", "change", "delete")
EDIT = ("view", "add", "change")
VIEW = ("view",)

# Model permissions per role, as {"app_label.model": actions}. Pages and the API check the
# role itself; these permissions drive the admin site. Models that do not exist yet are
# skipped, so later migrations call sync_role_groups again after adding theirs.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.MANAGER: {
        "users.user": EDIT,
        "auth.group": VIEW,
        "patients.patient": ALL,
        "patients.allergy": ALL,
        "patients.medication": ALL,
        "patients.condition": ALL,
        "patients.implanteddevice": ALL,
        "patients.assessment": ("view", "change"),
        "patients.intakesubmission": VIEW,
        "patients.intakeitem": VIEW,
        "patients.duplicatecandidate": ("view", "change"),
        "patients.patientmerge": VIEW,
        "patients.drugname": ALL,
        "patients.labresult": ALL,
        "patients.payer": ALL,
        "procedures.payerrule": ALL,
        "procedures.proceduretype": ALL,
        "procedures.procedurecode": ALL,
        "procedures.safetythreshold": ("view", "change"),
        "procedures.safetyrule": ("view", "change"),
        "procedures.anticoagulantrule": ALL,
        "procedures.steroid": ALL,
        "procedures.procedureorder": ("view", "change"),
        "procedures.procedurerecord": VIEW,
        "procedures.procedureoutcome": VIEW,
        "procedures.safetyoverride": VIEW,
        # Consents and procedure notes are written through their pages (services); read here.
        "procedures.procedureconsent": VIEW,
        "procedures.procedurenote": VIEW,
        "procedures.noteaddendum": VIEW,
        "sites.location": ALL,
        "sites.room": ALL,
        "sites.provider": ALL,
        "scheduling.appointmenttype": ALL,
        "scheduling.appointment": ("view", "change"),
        "scheduling.workinghours": ALL,
        "scheduling.scheduleexception": ALL,
        "sites.openinghours": ALL,
        "scheduling.waitlistentry": ALL,
        "scheduling.waitlistoffer": ("view", "change"),
        "scheduling.bookingpolicy": ("view", "change"),
        "notifications.message": VIEW,
        "notifications.linktoken": VIEW,
        "notifications.notificationpolicy": ("view", "change"),
        "portal.registration": VIEW,
        "audit.chartaccess": VIEW,
        # Sign-in attempts and failures (django-axes), read-only.
        "axes.accessattempt": VIEW,
        "axes.accessfailurelog": VIEW,
        "axes.accesslog": VIEW,
    },
    Role.CLINICIAN: {
        "patients.patient": EDIT,
        "patients.allergy": EDIT,
        "patients.medication": EDIT,
        "patients.condition": EDIT,
        "patients.implanteddevice": EDIT,
        "patients.assessment": ("view", "add"),
        "patients.intakesubmission": ("view", "change"),
        "patients.intakeitem": ("view", "change"),
        "patients.duplicatecandidate": ("view", "change"),
        "patients.drugname": VIEW,
        "patients.labresult": EDIT,
        "procedures.procedureconsent": VIEW,
        "procedures.procedurenote": VIEW,
        "procedures.noteaddendum": VIEW,
        "sites.location": VIEW,
        "sites.room": VIEW,
        "sites.provider": VIEW,
    },
    Role.FRONT_DESK: {
        "patients.patient": EDIT,
        "patients.intakesubmission": VIEW,
        "patients.duplicatecandidate": ("view", "change"),
        "sites.location": VIEW,
        "sites.room": VIEW,
        "sites.provider": VIEW,
    },
    Role.PATIENT: {},
}


def sync_role_groups(apps, schema_editor=None) -> None:
    """RunPython entry: create permissions (Django only does so after all migrations have
    run), then the role groups, using the migration's historical models."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    assign_role_permissions(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def assign_role_permissions(Group, Permission) -> None:
    """Create the role groups and give each exactly the permissions listed above.

    Also runs after every migrate and every test-database flush (post_migrate), so the
    groups always match ROLE_PERMISSIONS.
    """
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.label)
        wanted = []
        for model_key, actions in ROLE_PERMISSIONS[role].items():
            app_label, model = model_key.split(".")
            codenames = [f"{action}_{model}" for action in actions]
            wanted += Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        group.permissions.set(wanted)
