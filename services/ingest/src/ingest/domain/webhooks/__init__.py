"""Third-party webhooks: the sources document, the signature schemes (one module per provider,
registered in :mod:`ingest.domain.webhooks.schemes`), where sources and secrets come from, and
what a verified delivery stores. Imported only by ``POST /webhooks/{source}``.
"""
