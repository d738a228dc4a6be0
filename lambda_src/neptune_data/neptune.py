"""The Neptune data API client and the two kinds of failure Step Functions tells apart.

Clients are created once per execution environment. The `neptunedata` client's default endpoint
is NOT the cluster: it must be `https://<cluster endpoint>:<port>`, from the environment the
stack sets. Requests are SigV4-signed with the function's role (IAM database authentication).
"""

from __future__ import annotations

import os

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

CLUSTER_ENDPOINT = os.environ["CLUSTER_ENDPOINT"]
CLUSTER_PORT = os.environ.get("CLUSTER_PORT", "8182")

client = boto3.client(
    "neptunedata",
    endpoint_url=f"https://{CLUSTER_ENDPOINT}:{CLUSTER_PORT}",
    # Step Functions owns retries (with backoff and a visible history); keep the SDK's short.
    config=Config(retries={"mode": "standard", "max_attempts": 2},
                  connect_timeout=5, read_timeout=60),
)


class NeptuneBusy(Exception):
    """Retryable: throttled, too many concurrent loads, or the cluster briefly unreachable."""


class NeptuneRejected(Exception):
    """Not retryable: the request itself is wrong or not allowed; retrying cannot help."""


class InvalidRequest(NeptuneRejected):
    """The event is wrong; raised before any call to Neptune."""


# Error codes of the neptunedata API worth another try after a backoff.
RETRYABLE = {
    "TooManyRequestsException",
    "ThrottlingException",
    "ConcurrentModificationException",
    "InternalFailureException",
    "ClientTimeoutException",
    "ServerShutdownException",
    "MemoryLimitExceededException",
}


def translate(error: Exception) -> Exception:
    """Map a botocore failure to NeptuneBusy (retry) or NeptuneRejected (give up)."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message") or str(error)
        kind = NeptuneBusy if code in RETRYABLE else NeptuneRejected
        return kind(f"{code}: {message}")
    if isinstance(error, (EndpointConnectionError, BotoCoreError)):
        return NeptuneBusy(f"cluster endpoint not reachable: {error}")
    return error
