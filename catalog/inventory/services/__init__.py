from catalog.inventory.services.apply import ApplyResult, inventory_apply_extraction  # noqa: F401
from catalog.inventory.services.edit import column_describe, dataset_describe, owner_identity_map, schema_describe  # noqa: F401
from catalog.inventory.services.build_sql import BuildSqlRecord, build_sql_of_source, build_sql_sync  # noqa: F401
