"""The sandbox's admin endpoint: inject faults, turn knobs, read state and history.

    GET    /admin/state             every stand-in's state (sandbox values only)
    GET    /admin/history           recorded events; ?service=&event= filter
    POST   /admin/faults            {service, method, path, status, retry_after, delay, drop, body, html, drip, after, count}
    DELETE /admin/faults            clear them
    POST   /admin/options           {captcha_delay, deploy_seconds, next_deploy_state, ...}
plus the routes each stand-in adds (e.g. POST /admin/mtn/expire).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .core import Fault, Service


def build_admin(sb: Any) -> Service:
    async def state(request: Request) -> JSONResponse:
        snap = {name: s.state.snapshot() for name, s in sb.services.items()
                if s.state is not None and hasattr(s.state, "snapshot")}
        return JSONResponse({"options": asdict(sb.options), "faults": sb.faults.snapshot(), **snap})

    async def history(request: Request) -> JSONResponse:
        q = request.query_params
        return JSONResponse(sb.history.events(q.get("service"), q.get("event")))

    async def add_fault(request: Request) -> JSONResponse:
        spec = await request.json()
        allowed = {f.name for f in fields(Fault)} - {"hits"}
        unknown = set(spec) - allowed
        if unknown or "service" not in spec:
            return JSONResponse({"error": f"unknown or missing fields: {sorted(unknown) or ['service']}"}, 400)
        return JSONResponse(asdict(sb.faults.add(**spec)), 201)

    async def clear_faults(request: Request) -> JSONResponse:
        sb.faults.clear()
        return JSONResponse({}, 200)

    async def set_options(request: Request) -> JSONResponse:
        spec = await request.json()
        allowed = {f.name for f in fields(type(sb.options))}
        unknown = set(spec) - allowed
        if unknown:
            return JSONResponse({"error": f"unknown options: {sorted(unknown)}"}, 400)
        for key, value in spec.items():
            setattr(sb.options, key, value)
        return JSONResponse(asdict(sb.options))

    routes = [
        Route("/admin/state", state),
        Route("/admin/history", history),
        Route("/admin/faults", add_fault, methods=["POST"]),
        Route("/admin/faults", clear_faults, methods=["DELETE"]),
        Route("/admin/options", set_options, methods=["POST"]),
    ]
    for service in list(sb.services.values()):
        routes.extend(service.admin_routes)
    return Service("admin", Starlette(routes=routes))
