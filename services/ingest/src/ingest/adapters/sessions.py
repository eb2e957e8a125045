"""botocore sessions that create one service's clients without scanning every service model."""

from __future__ import annotations

import botocore.session


def service_session(service: str) -> botocore.session.Session:
    """A botocore session that creates ``service`` clients without scanning every service model.

    Before loading a model, botocore checks the service name against a scan of all the service
    directories it ships (~400 of them, ~40 ms of cold start). This session only ever makes
    ``service`` clients, so the check is answered from that service's own directory alone (and
    falls back to the full scan for a model type the service does not ship).
    """
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    scan_all = loader.list_available_services

    def list_available_services(type_name: str) -> list[str]:
        if loader.list_api_versions(service, type_name):
            return [service]
        return list(scan_all(type_name))

    loader.list_available_services = list_available_services
    return session
