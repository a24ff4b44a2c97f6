"""Read a Prometheus text exposition into {(name, labels): value} for assertions."""

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 if none)."""
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))
