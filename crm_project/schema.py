"""drf-spectacular hooks."""


def spec_paths(result, generator, request, public):
    """Show paths as the specification writes them: `/crm/attribute/attribute_id/{attribute_id}` (the API
    accepts both forms; the schema can list only one)."""
    result["paths"] = {
        (path[:-1] if path.endswith("}/") else path): item for path, item in result.get("paths", {}).items()
    }
    return result
