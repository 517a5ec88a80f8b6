"""Demo locations, rooms and providers: two sites in different US time zones."""

from clinic.core.demo import DemoContext

from .models import Location, Provider, ProviderKind, Room, RoomKind

LOCATIONS = [
    {
        "code": "raleigh",
        "name": "Oak City Pain & Spine - Raleigh",
        "time_zone": "America/New_York",
        "address_line": "1200 Glenwood Avenue, Suite 300",
        "city": "Raleigh",
        "state": "NC",
        "postal_code": "27605",
        "phone": "+19195550100",
        "rooms": [
            ("Consult 1", RoomKind.CONSULT),
            ("Consult 2", RoomKind.CONSULT),
            ("Consult 3", RoomKind.CONSULT),
            ("Fluoro Suite A", RoomKind.FLUOROSCOPY),
            ("Fluoro Suite B", RoomKind.FLUOROSCOPY),
            ("Ultrasound 1", RoomKind.ULTRASOUND),
            ("Recovery", RoomKind.RECOVERY),
        ],
    },
    {
        "code": "denver",
        "name": "Front Range Pain Institute - Denver",
        "time_zone": "America/Denver",
        "address_line": "850 East 17th Avenue, Floor 2",
        "city": "Denver",
        "state": "CO",
        "postal_code": "80218",
        "phone": "+13035550100",
        "rooms": [
            ("Consult A", RoomKind.CONSULT),
            ("Consult B", RoomKind.CONSULT),
            ("Fluoro Suite 1", RoomKind.FLUOROSCOPY),
            ("Procedure Room 1", RoomKind.PROCEDURE),
            ("Recovery", RoomKind.RECOVERY),
        ],
    },
]

# (first, last, credentials, kind, location codes, demo login)
PROVIDERS = [
    ("Maya", "Okafor", "MD", ProviderKind.PHYSICIAN, ["raleigh", "denver"], "physician"),
    ("Daniel", "Brennan", "DO", ProviderKind.PHYSICIAN, ["raleigh"], None),
    ("Priya", "Raman", "MD", ProviderKind.PHYSICIAN, ["denver"], None),
    ("Samuel", "Whitfield", "MD", ProviderKind.PHYSICIAN, ["raleigh", "denver"], None),
    ("Lauren", "Hayes", "PA-C", ProviderKind.PHYSICIAN_ASSISTANT, ["raleigh"], None),
    ("Marco", "Delgado", "NP", ProviderKind.NURSE_PRACTITIONER, ["denver"], None),
]


def seed(ctx: DemoContext) -> None:
    locations = {}
    for spec in LOCATIONS:
        fields = {key: value for key, value in spec.items() if key not in ("code", "rooms")}
        location, _ = Location.objects.update_or_create(code=spec["code"], defaults=fields)
        for name, kind in spec["rooms"]:
            Room.objects.update_or_create(location=location, name=name, defaults={"kind": kind})
        locations[spec["code"]] = location

    for first, last, credentials, kind, codes, login in PROVIDERS:
        provider, _ = Provider.objects.update_or_create(
            first_name=first,
            last_name=last,
            defaults={
                "credentials": credentials,
                "kind": kind,
                "user": ctx.made.get(login) if login else None,
            },
        )
        provider.locations.set([locations[code] for code in codes])

    ctx.made["locations"] = list(locations.values())
    ctx.counts["locations"] = len(locations)
    ctx.counts["providers"] = len(PROVIDERS)
