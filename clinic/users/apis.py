from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.core.throttling import ResilientScopedRateThrottle

from .selectors import user_profile
from .serializers import MeSerializer


class TokenApi(ObtainAuthToken):
    """POST username and password; returns {"token": ...} for `Authorization: Token ...`."""

    throttle_classes = [ResilientScopedRateThrottle]
    throttle_scope = "auth"


class MeApi(APIView):
    @extend_schema(responses=MeSerializer, summary="Who am I")
    def get(self, request):
        return Response(MeSerializer(user_profile(user=request.user)).data)
