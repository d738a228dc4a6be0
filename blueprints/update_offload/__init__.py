"""Software-update offload blueprint (docs/update-offload.md): `update_server.py` is the
existing app, `update_distribution.py` the CloudFront offload in front of it."""
