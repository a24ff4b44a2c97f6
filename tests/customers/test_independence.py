"""customers knows no other app of ours: apps plug into it through `customers.extensions` instead."""

import ast
import re
from pathlib import Path

from django.conf import settings

from customers import extensions

PROJECT_DIR = Path(__file__).resolve().parents[2]
OUR_APPS = {
    "attributes",
    "tokens",
    "bench",
    "jobs",
    "events",
    "webhooks",
}  # crm_project is the project itself, shared by every app


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
            "import_module",
            "__import__",
        }:
            modules |= {arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return modules


def test_customers_python_imports_no_other_app_of_ours():
    files = sorted((PROJECT_DIR / "customers").rglob("*.py"))
    assert len(files) > 10, "customers' modules not found"
    offending = {
        str(path.relative_to(PROJECT_DIR)): sorted(
            module for module in _imported_modules(path) if module.split(".")[0] in OUR_APPS
        )
        for path in files
    }
    assert {path: modules for path, modules in offending.items() if modules} == {}


def test_the_checked_apps_are_the_installed_apps_of_ours():
    ours = {app for app in settings.INSTALLED_APPS if (PROJECT_DIR / app).is_dir()}
    assert ours == OUR_APPS | {"customers", "crm_project"}


def test_customers_templates_include_no_template_of_another_app():
    tag = re.compile(r"{%\s*(?:include|extends)\s+[\"']([^\"']+)[\"']")
    names = {
        name
        for path in (PROJECT_DIR / "templates" / "customers").glob("*.html")
        for name in tag.findall(path.read_text())
    }
    assert names, "no includes found: has the template directory moved?"
    assert {name for name in names if name.split("/")[0] in OUR_APPS} == set()


def test_attributes_registers_its_tabs_filter_and_list_links():
    tabs = [(tab.name, tab.label) for tab in extensions.tabs()]
    assert tabs == [("attributes", "Attributes"), ("history", "History")]
    assert [type(list_filter).__name__ for list_filter in extensions.list_filters()] == ["AttributeListFilter"]
    assert extensions.list_templates(extensions.LIST_ACTIONS) == ["attributes/_customer_list_actions.html"]
    assert extensions.list_templates(extensions.LIST_TOOLS) == ["attributes/_customer_list_export.html"]
