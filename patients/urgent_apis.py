"""API for a patient's danger signs: read the open flags, acknowledge them (clinicians)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.users.access import IsClinicStaff
from clinic.users.actor import Actor
from clinic.users.models import User

from . import selectors, urgent
from .models import UrgentFlag


class UrgentFlagSerializer(serializers.ModelSerializer):
    reason_label = serializers.SerializerMethodField()
    acknowledged_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = UrgentFlag
        fields = [
            "id",
            "reason",
            "reason_label",
            "detail",
            "source",
            "assessment",
            "intake",
            "raised_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledgement_note",
        ]

    def get_reason_label(self, flag: UrgentFlag) -> str:
        return urgent.reason_label(flag.reason)


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, max_length=urgent.NOTE_LIMIT)
    flags = serializers.ListField(child=serializers.UUIDField(), required=False)


class UrgentFlagListApi(APIView):
    """GET: the patient's open danger signs (clinicians and managers; 404 for others)."""

    permission_classes = [IsClinicStaff]

    @extend_schema(responses=UrgentFlagSerializer(many=True))
    def get(self, request, patient_id):
        patient = selectors.clinical_patient_for(request.user, patient_id)
        flags = urgent.open_flags(patient).select_related("acknowledged_by")
        return Response(UrgentFlagSerializer(flags, many=True).data)


class UrgentAcknowledgeApi(APIView):
    """POST {note, flags?}: a clinician acknowledges the open danger signs (all, or the
    listed ones). 403 for any other role, 400 without a note, 409 when none is open."""

    permission_classes = [IsClinicStaff]

    @extend_schema(request=AcknowledgeSerializer, responses=UrgentFlagSerializer(many=True))
    def post(self, request, patient_id):
        patient = selectors.patient_for(request.user, patient_id)
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = urgent.urgent_acknowledge(
            patient=patient,
            by=Actor.api(request.user),
            note=body.validated_data["note"],
            flag_ids=body.validated_data.get("flags"),
        )
        return Response(UrgentFlagSerializer(done, many=True).data)
