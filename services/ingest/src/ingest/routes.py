"""The API's routes, written once: the resolver, the 404/405 answers, the local gateway's route keys
and the Terraform routes (checked by a test) all read them from here.

In AWS the HTTP API declares one ``ANY`` route per path template, so unknown paths are answered by
API Gateway and never invoke the function. The function serves a request only when the route key
API Gateway matched is the one for the request's path (:func:`admit`), so a request that reaches it
by another route (a ``$default`` route, a mis-wired integration) is never served as another path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.errors import ApiError, MethodNotAllowed, NotFound


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # API Gateway's path template, e.g. /webhooks/{source}
    #: A header the request must carry for this route to serve it (lower-case): a method that
    #: serves only a handshake, such as CloudEvents' webhook validation, is otherwise refused with
    #: the path's 405 as before.
    requires: str | None = None

    @property
    def route_key(self) -> str:
        """The HTTP API route key that sends this path to the function."""
        return f"ANY {self.template}"

    @property
    def rule(self) -> str:
        """The same path in Powertools' resolver syntax (``<name>`` for a path parameter)."""
        return re.sub(r"\{(\w+)\}", r"<\1>", self.template)

    def matches(self, path: str) -> bool:
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(self.template))
        return re.fullmatch(pattern, path) is not None


HEALTH = Route("GET", "/health")
EVENTS = Route("POST", "/events")
WEBHOOKS = Route("POST", "/webhooks/{source}")
#: The CloudEvents webhook validation handshake (abuse protection): ``OPTIONS`` with
#: ``WebHook-Request-Origin``. API Gateway's ``ANY /webhooks/{source}`` route already sends it here.
WEBHOOK_VALIDATION = Route("OPTIONS", "/webhooks/{source}", requires="webhook-request-origin")
ROUTES: tuple[Route, ...] = (EVENTS, WEBHOOKS, WEBHOOK_VALIDATION, HEALTH)


def route_for(path: str) -> Route | None:
    return next((route for route in ROUTES if route.matches(path)), None)


def _serves(route: Route, method: object, headers: dict[str, Any]) -> bool:
    return method == route.method and (route.requires is None or route.requires in headers)


def route_key_for(path: str) -> str:
    """The route key API Gateway gives a request for ``path`` (``$default`` when none matches)."""
    route = route_for(path)
    return route.route_key if route is not None else "$default"


def admit(event: dict[str, Any]) -> ApiError | None:
    """``None`` when the function should serve this request, else the error to answer with.

    The method must match exactly: HTTP methods are case-sensitive (RFC 9110, 9.1), so ``post``
    is not ``POST``.
    """
    path = str(event.get("rawPath") or "")
    route = route_for(path)
    if route is None or event.get("routeKey") not in (
        route.route_key,
        f"{route.method} {route.template}",
    ):
        return NotFound(f"no route for {path[:256]}")
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method")
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    same_path = [other for other in ROUTES if other.template == route.template]
    if any(_serves(other, method, headers) for other in same_path):
        return None
    allowed = ", ".join(other.method for other in same_path if other.requires is None)
    return MethodNotAllowed(
        f"{route.template} does not accept this method", headers={"Allow": allowed}
    )
