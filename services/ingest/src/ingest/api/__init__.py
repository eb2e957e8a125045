"""Route modules, one per route family (``/events``, ``/webhooks/{source}``, ``/health``), each a
Powertools router that :mod:`ingest.handler` joins into its resolver; :mod:`ingest.api.http` holds
what they share. They speak HTTP and call the domain (:mod:`ingest.domain`); none imports the
handler.
"""

from ingest.lazy_imports import defer_package_init

# Before anything imports from Powertools' event handler package (see ingest.lazy_imports).
defer_package_init("aws_lambda_powertools.event_handler")
