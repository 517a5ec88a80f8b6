from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.core.parsers import BoundedJSONParser
from clinic.core.throttling import ResilientScopedRateThrottle

from .selectors import user_profile
from .serializers import MeSerializer


class TokenApi(ObtainAuthToken):
    """POST username and password; returns {"token": ...} for `Authorization: Token ...`."""

    throttle_classes = [ResilientScopedRateThrottle]
    throttle_scope = "auth"
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]  # DRF's view names its own


class MeApi(APIView):
    @extend_schema(responses=MeSerializer, summary="Who am I")
    def get(self, request):
        return Response(MeSerializer(user_profile(user=request.user)).data)
