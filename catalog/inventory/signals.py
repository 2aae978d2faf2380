"""What inventory's edit services announce, for apps above inventory that keep something derived
from what people write (search documents). Inventory imports none of them: each connects its
receivers in its own AppConfig.ready(). Sent inside the edit, so a receiver that fails fails it."""

from django.dispatch import Signal

# dataset_ids: the datasets whose description, or a column's, was just written.
datasets_described = Signal()

# owner_identity_ids: the owner identities just mapped to a person or an email.
owner_identities_mapped = Signal()

# source_ids: the sources whose datasets' build SQL (catalog/inventory/services/build_sql.py) was just
# written or removed; lineage derives their edges again.
build_sql_changed = Signal()
