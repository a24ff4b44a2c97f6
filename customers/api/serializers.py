from rest_framework import serializers

from crm_project.api import DirectRepresentationMixin, NoUnknownFieldsMixin, SpecDateTimeField

from ..models import Customer


class CustomerSerializer(DirectRepresentationMixin, NoUnknownFieldsMixin, serializers.ModelSerializer):
    """A customer with its standard fields; `customer_id`, `created` and `last_modified` are read-only."""

    ignored_fields = frozenset({"customer_id", "created", "last_modified"})
    created = SpecDateTimeField()
    last_modified = SpecDateTimeField()

    class Meta:
        model = Customer
        fields = [
            "customer_id",
            "customer_name",
            "customer_account_type",
            "customer_status",
            "email",
            "phone",
            "notes",
            "created",
            "last_modified",
        ]
        read_only_fields = ["customer_id", "created", "last_modified"]

    def to_internal_value(self, data):
        # DRF's CharField turns 0 or true into "0"/"True": text fields take JSON strings only, as attributes do.
        if isinstance(data, dict):
            errors = {
                name: ["Must be a JSON string."]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and not field.read_only
                and name in data
                and not isinstance(data[name], str)
                and not (data[name] is None and field.allow_null)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate(self, attrs):
        # An empty PATCH (or one that only echoes read-only fields) would still bump last_modified.
        if self.partial and not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs
