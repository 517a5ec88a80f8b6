import django_filters
from axes.models import AccessFailureLog
from django import forms


class AddressFilter(django_filters.CharFilter):
    """An IPv4 or IPv6 address, checked before it reaches PostgreSQL's inet column."""

    field_class = forms.GenericIPAddressField


class SignInFailureFilter(django_filters.FilterSet):
    """The managers' search of failed sign-ins. Sent by POST: the usernames tried (a
    patient's is their email address) stay out of URLs and access logs."""

    username = django_filters.CharFilter(
        label="Username tried (contains)", lookup_expr="icontains", max_length=150
    )
    ip_address = AddressFilter(label="Address")
    locked_out = django_filters.BooleanFilter(
        label="Only failures that paused sign-in",
        widget=forms.CheckboxInput,
        method="only_pausing",
    )

    class Meta:
        model = AccessFailureLog
        fields = ["username", "ip_address", "locked_out"]

    def only_pausing(self, queryset, name: str, value: bool | None):
        return queryset.filter(locked_out=True) if value else queryset
