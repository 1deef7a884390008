"""How often one recover asks each target, counted from the stand-ins' request history.

A recover reads each target once before its write (the first look, which the preflight and the
two-operator guard share, and the push's own read, which reuses what the look fetched) and once
after it (the read-back the recap reports). It used to list Vercel's env vars 6 times and GET the
variable 6 times for one PATCH, and GET the GitHub secret's metadata 9 times for one PUT.
"""

from __future__ import annotations

import re
from collections import Counter

from test_recover import assert_everywhere, save_minted, saved


def counted(sandbox, service: str) -> Counter:
    """Requests by method and path, ids folded: GET /v1/projects/p/env/{id} counts as one path."""
    paths = Counter()
    for r in sandbox.history.requests(service):
        path = re.sub(r"/env/[^/]+$", "/env/{id}", r["path"])
        path = re.sub(r"/deployments/dpl_\w+$", "/deployments/{id}", path)
        paths[f"{r['method']} {path}"] += 1
    return paths


def test_an_expired_session_recover_reads_each_target_at_most_once_before_and_once_after_its_write(
        sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    sandbox.history.clear()

    result = inv("recover", "--headless", "--timeout", "60")

    assert result.code == 0, result.output
    assert_everywhere(sandbox, saved(workdir))
    vercel, github = counted(sandbox, "vercel"), counted(sandbox, "github")
    project = "/projects/prj_sandbox"
    # the first look lists and GETs the variable (the list has no plaintext); the push lists once more
    # (the guard), reuses the value the look fetched, PATCHes once, and GETs once to read it back
    assert vercel[f"GET /v10{project}/env"] == 2, vercel
    assert vercel[f"GET /v1{project}/env/{{id}}"] == 2, vercel
    assert vercel[f"PATCH /v9{project}/env/{{id}}"] == 1, vercel
    # the project: the preflight's check, and the redeploy's read (alongside the push)
    assert vercel[f"GET /v9{project}"] == 2, vercel
    secret, key = "GET /repos/acme/mtn-app/actions/secrets/MTN_SESSION", "GET /repos/acme/mtn-app/actions/secrets/public-key"
    assert github[secret] == 3, github   # the first look, the guard's read, the read-back
    assert github[key] == 1, github      # fetched once a run
    assert github["PUT /repos/acme/mtn-app/actions/secrets/MTN_SESSION"] == 1, github
