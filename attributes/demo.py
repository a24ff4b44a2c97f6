"""Demo attributes in the spirit of the specification's examples, deterministic per customer."""

import random

# (name, value chooser) pairs; each demo customer gets a handful of them.
_GENERATORS = [
    ("external_crm_id", lambda cid, rng: f"SF-{10000 + cid}"),
    ("legacy_system_id", lambda cid, rng: f"OLD-CRM-{rng.randrange(100, 999)}"),
    ("hubspot_contact_id", lambda cid, rng: str(rng.randrange(10_000_000, 99_999_999))),
    ("billing_method", lambda cid, rng: rng.choice(["monthly", "monthly", "quarterly", "annual"])),
    ("auto_provision", lambda cid, rng: rng.choice(["true", "false"])),
    ("support_tier", lambda cid, rng: rng.choices(["standard", "premium", "enterprise"], weights=[70, 25, 5])[0]),
    ("credit_limit", lambda cid, rng: str(rng.choice([500, 1000, 2500, 5000, 10000]))),
    ("gdpr_consent_date", lambda cid, rng: f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"),
    ("tax_exempt", lambda cid, rng: rng.choice(["true", "false", "false", "false"])),
    ("regulatory_entity", lambda cid, rng: f"FCC-{rng.randrange(100000, 999999)}"),
    ("preferred_contact_method", lambda cid, rng: rng.choice(["email", "phone", "sms"])),
    ("account_manager", lambda cid, rng: rng.choice(["john.smith@company.com", "maria.lopez@company.com"])),
    ("onboarding_date", lambda cid, rng: f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"),
    ("churn_risk_score", lambda cid, rng: f"{rng.random():.2f}"),
    ("radius_username_format", lambda cid, rng: rng.choice(["email", "account_id"])),
    ("vlan_id", lambda cid, rng: str(rng.randrange(100, 4000))),
    ("ipv6_enabled", lambda cid, rng: rng.choice(["true", "false"])),
]


def demo_attributes(customer_id: int) -> dict[str, str]:
    """The demo attributes of one customer: always the same for the same id."""
    rng = random.Random(f"attributes-{customer_id}")
    chosen = rng.sample(_GENERATORS, k=rng.randrange(3, 9))
    return {name: make(customer_id, rng) for name, make in chosen}


# Registry entries for the demo's most used names, so the Add modal's hints and the registry show real use.
DEFINITIONS = [
    {
        "name": "external_crm_id",
        "description": "Salesforce account id; the CRM sync matches customers by it.",
        "value_type": "regex",
        "pattern": r"SF-[0-9]+",
        "example": "SF-12345",
        "dependent_systems": "Salesforce sync",
        "protected": True,
    },
    {
        "name": "billing_method",
        "description": "Overrides the default monthly billing cycle.",
        "value_type": "choice",
        "choices": "monthly\nquarterly\nannual",
        "dependent_systems": "billing",
    },
    {
        "name": "support_tier",
        "description": "Support level; premium and enterprise get the priority queue.",
        "value_type": "choice",
        "choices": "standard\npremium\nenterprise",
    },
    {"name": "auto_provision", "description": "Provision new services without manual review.", "value_type": "boolean"},
    {"name": "vlan_id", "description": "Customer VLAN on the access network.", "value_type": "integer",
     "example": "100", "dependent_systems": "provisioning, RADIUS"},
    {"name": "gdpr_consent_date", "description": "When the customer consented to data processing.",
     "value_type": "date", "example": "2025-01-01"},
]  # fmt: skip


def seed_definitions() -> int:
    """Create the demo registry entries that are missing; returns how many were created."""
    from .models import AttributeDefinition
    from .services import definition_create

    created = 0
    for fields in DEFINITIONS:
        if not AttributeDefinition.objects.filter(name=fields["name"]).exists():
            definition_create(actor=None, **fields)
            created += 1
    return created
