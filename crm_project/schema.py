"""drf-spectacular hooks."""

# Paths the specification and the issues write without a trailing slash; the API accepts both forms,
# the schema can list only one.
_NO_SLASH_ENDINGS = ("}/", "/history/", "/usage/")


def spec_paths(result, generator, request, public):
    """List paths as documented: `/crm/attribute/attribute_id/{attribute_id}`, `/crm/attribute/usage`…"""
    result["paths"] = {
        (path[:-1] if path.endswith(_NO_SLASH_ENDINGS) else path): item
        for path, item in result.get("paths", {}).items()
    }
    return result
