"""Attribute API shapes. Serializers parse and render; every rule and every write lives in services.py."""

from rest_framework import serializers

from crm_project.api import (
    DirectRepresentationMixin,
    NoUnknownFieldsMixin,
    SpecDateTimeField,
    StrictCharField,
    StrictIntegerField,
)

from ..models import Attribute

READ_ONLY = frozenset({"attribute_id", "created", "last_modified"})


class AttributeSerializer(DirectRepresentationMixin, serializers.ModelSerializer):
    """An attribute exactly as the specification shows it."""

    customer_id = serializers.IntegerField(read_only=True)
    attribute_value = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="null for a sensitive value the caller may not view (`sensitive` is then true).",
    )
    created = SpecDateTimeField()
    last_modified = SpecDateTimeField()
    # Not read_only: drf-spectacular marks every read-only field required, and this one is absent on plain values.
    sensitive = serializers.BooleanField(
        required=False,
        help_text="Present, and true, only for a value of a name the registry marks sensitive: stored encrypted, "
        "shown to holders of view_sensitive_customer_attribute, null for everyone else.",
    )
    # What the instance renders; `sensitive` is added by the views' masking (attributes/sensitive.py Presenter).
    represented_fields = [
        "attribute_id",
        "customer_id",
        "attribute_name",
        "attribute_value",
        "created",
        "last_modified",
    ]

    class Meta:
        model = Attribute
        fields = [
            "attribute_id", "customer_id", "attribute_name", "attribute_value", "created", "last_modified", "sensitive",
        ]  # fmt: skip
        read_only_fields = fields


class BulkResultSerializer(AttributeSerializer):
    """An attribute in a bulk response, with what the write did to it: the schema of the bulk response only (the
    view renders each item with `AttributeSerializer` and adds `result`)."""

    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"], read_only=True)

    class Meta(AttributeSerializer.Meta):
        fields = [*AttributeSerializer.represented_fields, "result", "sensitive"]
        read_only_fields = fields


class AttributePutSerializer(NoUnknownFieldsMixin, serializers.Serializer):
    """Body of `PUT /crm/attribute/`: create or update by name."""

    ignored_fields = READ_ONLY
    customer_id = StrictIntegerField()
    attribute_name = StrictCharField()
    attribute_value = StrictCharField()


class AttributePatchSerializer(NoUnknownFieldsMixin, serializers.Serializer):
    """Body of `PATCH /crm/attribute/attribute_id/{id}`: a new value and/or a new name."""

    ignored_fields = READ_ONLY
    customer_id = StrictIntegerField(required=False, help_text="Optional; must be the attribute's customer.")
    attribute_name = StrictCharField(required=False, help_text="A new name renames the attribute.")
    attribute_value = StrictCharField(required=False)

    def validate(self, data):
        if "attribute_name" not in data and "attribute_value" not in data:
            raise serializers.ValidationError(
                {"non_field_errors": ["Send attribute_value and/or attribute_name to change."]}
            )
        return data


class DeleteResultSerializer(serializers.Serializer):
    result = serializers.CharField(default="success")


class BulkErrorItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class BulkErrorSerializer(serializers.Serializer):
    errors = BulkErrorItemSerializer(many=True)
