"""Data lakes: S3 buckets (``s3://``) and local folders (``file://``) as datasets.

- ``layout``: which keys are data and which folder is a dataset (pure).
- ``formats``: a file's schema from a Parquet footer or a bounded text sample; merging.
- ``stores``: listing and ranged reads over S3 (boto3) and a local folder.
- ``state``: what is remembered between crawls, so only new files are read.
- ``options``: a lake source's settings (path templates, sampling, CSV splitting), validated.
- ``connector``: the crawl itself, the connector of both schemes (registry.CONNECTORS).
"""

from catalog.connectors.lake.connector import LakeConnector  # noqa: F401
from catalog.connectors.lake.options import LakeOptions  # noqa: F401
