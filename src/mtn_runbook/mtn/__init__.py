"""Everything that talks to MTN: the browser (browser.py), the human-in-the-loop SSO login
(sso.py), the API check (api.py) and where the session in use comes from (source.py).

Import the submodules directly: this package imports nothing heavy, so `inv --list` stays fast.
"""
