"""The web pages of attributes, one module a page family; `attributes/urls.py` maps them.

- `tab`: the Attributes tab and its Add, Edit and Delete dialogs;
- `history`: the History tab and restore;
- `csv`: CSV export (one customer, a filtered list) and import;
- `usage`: the usage audit and the fleet-wide rename;
- `registry`: the registry of attribute names.
"""
