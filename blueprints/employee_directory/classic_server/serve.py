"""Starts the classic app: `python3.12 serve.py <environment.json>` (the systemd unit the user data
writes). The JSON file is the app's environment, written at boot from the template (table, bucket,
prefixes, content security policy, ...): the same variables the Lambda functions get."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    os.environ.update(json.loads(Path(sys.argv[1]).read_text()))
    sys.path[:0] = [str(HERE), str(HERE / "vendor")]
    import waitress
    import web

    web.settings()  # a missing or malformed variable stops the start, naming it
    waitress.serve(
        web.application,
        host="0.0.0.0",  # noqa: S104 (the security group admits only the load balancer)
        port=int(os.environ.get("APP_PORT", "8080")),
        threads=4,
        ident="",
        channel_timeout=60,
        max_request_body_size=1024 * 1024,
    )


if __name__ == "__main__":
    main()
