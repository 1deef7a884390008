"""Local stand-ins for MTN SSO, the MTN API, Vercel, GitHub, Coolify and the production app.

    with Sandbox(captcha_delay=0.5) as sb:
        env = sb.env()             # the variables that point every setting at the stand-ins
        sb.mtn, sb.vercel, sb.github, sb.coolify   # the stand-ins' state, for tests in-process

`Sandbox(production="coolify")`: the app runs on the Coolify stand-in (it reads the environment
its container was started with) and env() points at Coolify instead of Vercel.
        sb.faults.add(service="vercel", method="POST", path="/v10/projects/.*/env", status=429, retry_after=1)
        sb.history.events("vercel", "env.change")

Everything listens on loopback only. Strict on purpose: a stand-in that accepts what the real
service rejects makes every test lie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .core import Fault, Faults, History, Service, ServerThread, free_socket

__all__ = ["Sandbox", "Options", "Fault", "Faults", "History", "Service"]


@dataclass
class Options:
    """Knobs a test or a rehearsal can turn (also through POST /admin/options)."""
    captcha_delay: float | None = 1.0   # seconds until the stand-in captcha solves itself; None: never
    captcha: str = "self"               # "click": it starts only on a real (trusted) click (a tap) on its box
    # a hostile login page (a fault, for --link tests): also a "show password" button, a same-origin
    # /lure/away that 302s here, and a target=_blank link here; None: the normal page
    lure_url: str | None = None
    deploy_seconds: float = 1.0         # QUEUED -> BUILDING -> READY takes about this long
    run_seconds: float = 1.0            # a dispatched workflow run: queued -> in_progress -> completed
    next_deploy_state: str = "READY"    # "ERROR" or "CANCELED" makes the next deployment(s) fail
    username: str = "ops@example.test"
    password: str = "sandbox-password"
    vercel_token: str = "vercelSandboxToken7r3x"   # no "-": the vercel CLI refuses such a token unsent
    vercel_team_id: str = "team_sandbox"
    vercel_team_slug: str = "sandbox-team"
    vercel_project_id: str = "prj_sandbox"
    vercel_project_name: str = "mtn-app"
    github_token: str = "ghp_sandbox_token"
    github_repository: str = "acme/mtn-app"
    mtn_api_key: str = "mtnSandboxApiKey4q9w"   # the MTN API stand-in requires it as X-API-Key ("": not)
    # how long MTN keeps a session (sandbox/lifetimes.py): never dies of age by default
    session_hours: Any = None           # hours, "normal:24,6" or "lognormal:72,1.0"
    session_idle_hours: float | None = None  # dies after this long without an accepted API call
    time_scale: float = 1.0             # sandbox seconds per wall-clock second
    lifetime_seed: int | None = None
    production: str = "vercel"          # "coolify": the app reads the Coolify stand-in's running container
    coolify_token: str = "3|coolifySandboxToken5v8n"   # Sanctum's "id|secret" form
    coolify_abilities: str = "root"     # comma-separated: root, read, read:sensitive, write, deploy
    coolify_app_uuid: str = "m7k2sandbox0app0uuid4x9q"
    coolify_deploy_state: str = "finished"   # "failed" makes the next Coolify deployment(s) fail


def _state_of(service: str) -> Any:
    """A Sandbox property: that service's state object (Service.state)."""
    return property(lambda sandbox: sandbox.services[service].state)


class Sandbox:
    SERVICES = ("mtn", "vercel", "github", "coolify", "app")  # modules, each with build(sandbox) -> [Service]

    def __init__(self, *, tls: bool = False, **options: Any):
        """`tls=True` also starts GitHub's HTTPS listener (`github_tls`), which only the real `gh` needs."""
        self.options = Options(**options)
        self.tls = tls
        self.faults = Faults()
        self.history = History()
        self.services: dict[str, Service] = {}
        self.urls: dict[str, str] = {}
        self._threads: list[ServerThread] = []
        self._sockets: dict[str, Any] = {}

    # the stand-ins' state, for tests in-process
    mtn = _state_of("mtn_api")
    vercel = _state_of("vercel")
    github = _state_of("github")
    coolify = _state_of("coolify")
    app = _state_of("app")

    def production_env(self) -> dict:
        """The environment production's app runs with: the current Vercel production deployment's,
        or (production="coolify") the one the Coolify container was started with."""
        if self.options.production == "coolify":
            return self.coolify.running_env()
        return self.vercel.production_env()

    def url(self, name: str) -> str:
        return self.urls[name]

    def start(self) -> "Sandbox":
        import importlib

        from .admin import build_admin

        # Reserve every port first, so each stand-in knows the others' URLs when it is built.
        if self.options.production not in ("vercel", "coolify"):
            raise ValueError(f"production must be vercel or coolify, not {self.options.production!r}")
        names = ["mtn_sso", "mtn_api", "vercel", "github", *(["github_tls"] if self.tls else []), "coolify", "app", "admin"]
        hosts = {"mtn_api": "localhost"}
        for name in names:
            sock = free_socket()
            self._sockets[name] = sock
            scheme = "https" if name.endswith("_tls") else "http"
            self.urls[name] = f"{scheme}://{hosts.get(name, '127.0.0.1')}:{sock.getsockname()[1]}"
        for module in self.SERVICES:
            for service in importlib.import_module(f"{__name__}.{module}").build(self):
                if service.name in self._sockets:   # github_tls only when asked
                    self.services[service.name] = service
        self.services["admin"] = build_admin(self)
        from .core import FaultLayer

        for name, service in self.services.items():
            app = service.app if name == "admin" else FaultLayer(service.app, service.label, self.faults, self.history)
            thread = ServerThread(app, self._sockets[name], name, self.certificates if service.tls else None)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stops every listener at once: open connections and requests in flight (a drip fault's)
        are cut, not waited for."""
        for thread in self._threads:  # ask every server first, so they wind down together
            thread.ask_to_stop()
        for thread in self._threads:
            thread.stop()
        self._threads.clear()

    @property
    def certificates(self) -> Any:
        """The sandbox CA and the GitHub HTTPS listener's certificate (tls.py; one set per process)."""
        from .tls import shared_certificates

        return shared_certificates()

    def gh_env(self, config_dir: str) -> dict[str, str]:
        """What the real `gh` needs to talk to the GitHub stand-in, as a GitHub Enterprise host."""
        if not self.tls:
            raise RuntimeError("gh needs the HTTPS listener: start the sandbox with Sandbox(tls=True)")
        host = self.urls["github_tls"].removeprefix("https://")
        return {"GH_HOST": host, "GH_ENTERPRISE_TOKEN": self.options.github_token,
                "GH_REPO": f"{host}/{self.options.github_repository}", "SSL_CERT_FILE": str(self.certificates.ca_file),
                "GH_CONFIG_DIR": config_dir, "GH_NO_UPDATE_NOTIFIER": "1", "GH_PROMPT_DISABLED": "1",
                "NO_COLOR": "1", "GH_PAGER": "cat"}

    def vercel_cli_args(self) -> list[str]:
        """Global flags that point the real `vercel` CLI at the Vercel stand-in, in its team."""
        o = self.options
        return ["--api", self.urls["vercel"], "--token", o.vercel_token, "--scope", o.vercel_team_slug]

    def vercel_cli_env(self) -> dict[str, str]:
        """The linked project, as `vercel link` would record it, and no telemetry or update check."""
        o = self.options
        return {"VERCEL_ORG_ID": o.vercel_team_id, "VERCEL_PROJECT_ID": o.vercel_project_id,
                "VERCEL_TELEMETRY_DISABLED": "1", "NO_UPDATE_NOTIFIER": "1"}

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def login_url(self) -> str:
        service = quote(f"{self.urls['mtn_api']}/login/cas", safe="")
        return f"{self.urls['mtn_sso']}/login?service={service}"

    def env(self) -> dict[str, str]:
        """The variables (README, .env.example) that point every setting at this sandbox."""
        o = self.options
        env = {
            "MTN_USERNAME": o.username,
            "MTN_PASSWORD": o.password,
            "MTN_SSO_LOGIN_URL": self.login_url,
            "MTN_API_BASE_URL": self.urls["mtn_api"],
            "VERCEL_API_URL": self.urls["vercel"],
            "VERCEL_TOKEN": o.vercel_token,
            "VERCEL_PROJECT_ID": o.vercel_project_id,
            "VERCEL_TEAM_ID": o.vercel_team_id,
            "GITHUB_API_URL": self.urls["github"],
            "GITHUB_TOKEN": o.github_token,
            "GITHUB_REPOSITORY": o.github_repository,
            "PRODUCTION_URL": self.urls["app"],
            "SANDBOX_ADMIN_URL": self.urls["admin"],
        }
        if o.mtn_api_key:
            env["MTN_API_KEY"] = o.mtn_api_key
        if o.production == "coolify":   # production on Coolify, the copy in GitHub: no Vercel at all
            for name in ("VERCEL_API_URL", "VERCEL_TOKEN", "VERCEL_PROJECT_ID", "VERCEL_TEAM_ID"):
                env.pop(name)
            env.update(COOLIFY_API_URL=self.urls["coolify"], COOLIFY_TOKEN=o.coolify_token,
                       COOLIFY_APP_UUID=o.coolify_app_uuid)
        return env
