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
