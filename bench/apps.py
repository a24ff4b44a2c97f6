from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's data seeder and its bare-SQL baseline views (mounted only with CRM_BENCH=1)."""

    name = "bench"
    verbose_name = "Benchmark"
