from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """btree_gist backs the no-overlap exclusion constraints; pg_trgm the fuzzy name search."""

    initial = True
    dependencies = []
    operations = [BtreeGistExtension(), TrigramExtension()]
