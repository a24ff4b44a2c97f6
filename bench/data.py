"""A realistic, deterministic attribute data set: ~40 common names with skewed values and a long tail."""

import random

# Common names and their value generators; values are skewed (a few values dominate, like real tiers and flags).
COMMON = [
    ("external_crm_id", lambda r, c: f"SF-{c:07d}"),
    ("billing_method", lambda r, c: r.choices(["monthly", "quarterly", "annual", "prepaid"], [70, 20, 8, 2])[0]),
    ("billing_cycle", lambda r, c: r.choices(["monthly", "quarterly"], [85, 15])[0]),
    ("support_tier", lambda r, c: r.choices(["standard", "premium", "enterprise"], [80, 18, 2])[0]),
    ("auto_provision", lambda r, c: r.choices(["true", "false"], [90, 10])[0]),
    ("tax_exempt", lambda r, c: r.choices(["false", "true"], [97, 3])[0]),
    ("ipv6_enabled", lambda r, c: r.choices(["true", "false"], [40, 60])[0]),
    ("vlan_id", lambda r, c: str(int(r.paretovariate(1.2) * 100) % 4000 + 1)),
    ("credit_limit", lambda r, c: r.choices(["500", "1000", "2500", "10000"], [40, 35, 20, 5])[0]),
    ("preferred_contact_method", lambda r, c: r.choices(["email", "phone", "sms"], [70, 20, 10])[0]),
    ("radius_username_format", lambda r, c: r.choices(["email", "account_id"], [60, 40])[0]),
    ("churn_risk_score", lambda r, c: f"{r.betavariate(2, 8):.2f}"),
    ("gdpr_consent_date", lambda r, c: f"20{r.randrange(18, 26)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"),
    ("onboarding_date", lambda r, c: f"20{r.randrange(10, 26)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"),
    ("account_manager", lambda r, c: f"am{int(r.paretovariate(1.5)) % 40}@company.com"),
    ("hubspot_contact_id", lambda r, c: str(10_000_000 + c)),
    ("legacy_system_id", lambda r, c: f"OLD-CRM-{c}"),
    ("regulatory_entity", lambda r, c: f"FCC-{r.randrange(100000, 999999)}"),
    ("service_region", lambda r, c: r.choices(["north", "south", "east", "west", "metro"], [30, 25, 20, 15, 10])[0]),
    ("plan_code", lambda r, c: r.choices(["FIB100", "FIB300", "FIB1000", "DSL20", "LTE50"], [30, 35, 15, 12, 8])[0]),
]
COMMON += [(f"custom_flag_{i:02d}", lambda r, c: r.choices(["true", "false"], [20, 80])[0]) for i in range(20)]
# Probability that a customer has each common name: the first few are nearly universal, later ones rarer.
WEIGHTS = [0.95, 0.7, 0.5, 0.6, 0.5, 0.4, 0.3, 0.25, 0.3, 0.25, 0.2, 0.2, 0.2, 0.2, 0.15, 0.1, 0.1, 0.05, 0.3, 0.3]
WEIGHTS += [0.1] * 20


def attributes_for(customer_id: int, per_customer: float) -> list[tuple[str, str]]:
    """The attributes of one customer; `per_customer` scales the average count (about 10 by default)."""
    rng = random.Random(customer_id)
    scale = per_customer / 10.0
    rows = [
        (name, make(rng, customer_id))
        for (name, make), p in zip(COMMON, WEIGHTS, strict=True)
        if rng.random() < p * scale
    ]
    # The long tail: rare, deployment-specific names.
    while rng.random() < 0.35 * scale:
        rows.append((f"tail_{rng.randrange(5000):04d}_setting", f"v{rng.randrange(1000)}"))
    return list(dict(rows).items())
