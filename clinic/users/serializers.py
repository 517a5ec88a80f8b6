from rest_framework import serializers


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    patient = serializers.UUIDField(allow_null=True, help_text="The patient's id, for a patient.")
