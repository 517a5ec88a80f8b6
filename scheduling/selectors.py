from django.db.models import Prefetch
from django.utils import timezone

from .models import Location, Provider, Room


def locations_for_board():
    """Active locations with their active rooms and providers, in three queries."""
    return Location.objects.filter(is_active=True).prefetch_related(
        Prefetch("rooms", queryset=Room.objects.filter(is_active=True).order_by("name")),
        Prefetch("providers", queryset=Provider.objects.filter(is_active=True)),
    )


def local_now(location: Location):
    return timezone.now().astimezone(location.zone)
