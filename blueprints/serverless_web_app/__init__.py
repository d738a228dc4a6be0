"""ServerlessWebApp blueprint (docs/serverless-web-app.md): `stack.py` composes the user identity,
the site (`patterns/web/static_site.py`, or `amplify_site.py`) and `requests_api.py`."""
