"""The Invoke namespace. Task modules import only light modules at import time, so
`inv --list` stays as fast as bare Invoke (no playwright, fabric, nacl or rich)."""

from invoke import Collection

from . import deploy, doctor, keepalive, ledger, monitor, push, recover, sandbox, session_tasks, watch

ns = Collection()
for module in (session_tasks, deploy, recover, doctor, sandbox, ledger, keepalive):
    for name in getattr(module, "__all__", ()):
        ns.add_task(getattr(module, name))
ns.add_collection(push.ns)
ns.add_collection(monitor.ns)
ns.add_collection(watch.ns)
