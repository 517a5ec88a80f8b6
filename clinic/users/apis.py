from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from knox.views import LogoutAllView, LogoutView
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, Throttled, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.core.parsers import BoundedJSONParser

from .selectors import user_profile, user_tokens
from .serializers import (
    MeSerializer,
    TokenIssuedSerializer,
    TokenListedSerializer,
    TokenRequestSerializer,
)
from .signin_limits import PAUSED_CODE, Pause
from .tokens import token_issue, token_revoke_own

REVOKED = OpenApiResponse(description="Revoked.")


class SignInPaused(Throttled):
    """429 with Retry-After, in the one error body (clinic.core.errors)."""

    default_code = PAUSED_CODE

    def __init__(self, pause: Pause) -> None:
        APIException.__init__(self, pause.detail, PAUSED_CODE)
        self.wait = pause.seconds


class TokenApi(APIView):
    """POST username and password; returns {"token", "expiry"} for `Authorization: Token ...`.

    Tokens are kept only as digests (django-rest-knox) and expire (settings
    API_TOKEN_TTL_SECONDS_STAFF / _PATIENT, 8 hours by default). Wrong passwords count
    towards the sign-in limits of every path (django-axes, clinic/users/signin_limits.py):
    while paused, the answer is 429 with Retry-After."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenIssuedSerializer,
            429: OpenApiResponse(
                description="Sign-in paused after too many failures: see Retry-After."
            ),
        },
        summary="Get an API token",
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # axes marks the request it was given (this DRF request) when it pauses sign-in.
            if getattr(request, "axes_locked_out", False):
                raise SignInPaused(Pause.of(request))
            raise ValidationError(serializer.errors)
        instance, token = token_issue(user=serializer.validated_data["user"])
        return Response(TokenIssuedSerializer({"token": token, "expiry": instance.expiry}).data)


@extend_schema(request=None, responses={204: REVOKED}, summary="Revoke the token in use")
class LogoutApi(LogoutView):
    pass


@extend_schema(request=None, responses={204: REVOKED}, summary="Revoke all of my tokens")
class LogoutAllApi(LogoutAllView):
    pass


class TokenListApi(APIView):
    @extend_schema(responses=TokenListedSerializer(many=True), summary="My API tokens")
    def get(self, request):
        current = (
            request.auth
            if isinstance(request.successful_authenticator, TokenAuthentication)
            else None
        )
        rows = user_tokens(user=request.user, current=current)
        return Response(TokenListedSerializer(rows, many=True).data)


class TokenDetailApi(APIView):
    @extend_schema(request=None, responses={204: REVOKED}, summary="Revoke one of my tokens")
    def delete(self, request, token_id: str):
        if not token_revoke_own(user=request.user, token_id=token_id):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer, summary="Who am I")
    def get(self, request):
        return Response(MeSerializer(user_profile(user=request.user)).data)
