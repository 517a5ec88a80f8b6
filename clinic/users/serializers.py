from django.contrib.auth import authenticate
from rest_framework import serializers

from .two_factor import second_factor_check, second_factor_required


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    patient = serializers.UUIDField(allow_null=True, help_text="The patient's id, for a patient.")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(write_only=True, max_length=150)
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=4096, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=(
            "The second factor: the 6-digit code of the authenticator app, or a recovery code. "
            "Required for staff, and for a patient who turned two-step sign-in on."
        ),
    )

    def validate(self, attrs):
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:  # also for an inactive account
            raise serializers.ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        if second_factor_required(user):
            self.check_second_factor(user, attrs.get("otp", ""))
        attrs["user"] = user
        return attrs

    @staticmethod
    def check_second_factor(user, code: str) -> None:
        if not code:
            raise serializers.ValidationError(
                {"otp": ["This account signs in with a second factor: send its code."]},
                code="required",
            )
        check = second_factor_check(user=user, code=code)
        if not check.passed:
            raise serializers.ValidationError({"otp": [check.message]}, code="invalid")


class TokenIssuedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")
    expiry = serializers.DateTimeField(help_text="When the token stops working.")


class TokenListedSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Use in DELETE /api/v1/auth/tokens/{id}/.")
    prefix = serializers.CharField(help_text="The token's first characters, to recognise it.")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField(help_text="The token this request was made with.")
