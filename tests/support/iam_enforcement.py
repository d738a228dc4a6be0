"""IAM enforcement for the wiring tests: code runs with its template role's credentials, and moto
refuses what that role's policies do not allow.

How: `StackInMoto` creates the template's roles and policies in moto's IAM and assumes a role
through moto's STS (`RoleCredentials`). Inside `enforced()`, moto's own request authorization is
on (`moto.core.authorization.enable_iam_authentication`, the context form of
`set_initial_no_auth_action_count(0)`; the count and the setting are restored on exit, so each
test starts unenforced): every request must carry a valid signature of known credentials, and the
caller's identity policies (inline + attached managed, evaluated by moto's `IAMPolicy`) must
allow the action on the resource. An explicit Deny wins.

The resource-ARN shim (iam_resource_arns.py) gives moto the resource AWS evaluates where moto
would check `"*"` (DynamoDB, Streams, SNS, SES, CloudWatch Logs, X-Ray action names). Services
moto cannot serve (the Neptune data API, DAX) are authorized by the same evaluator at the client
(stubbed_services.py).

Every refusal is recorded (iam_refusals.py: `refusals()`, `attempt()`: action, resource,
principal), whatever the code under test made of the error (raised it, answered 500, reported a
failed batch item).

What this proves: every call the driven paths make is allowed by Action + Resource of the role
the template gives the code, and removing a grant a path needs makes it fail with AccessDenied
(benchmarks/grant_mutations.py removes each grant in turn; the `test_without_*` wiring tests pin
the important ones).

What it does not prove: Condition elements of identity policies are treated as met
(`dynamodb:LeadingKeys`, `ses:FromAddress`, `aws:SourceVpce`, `aws:SecureTransport`,
`elasticfilesystem:AccessPointArn`, `ecs:cluster`, ...): moto compares StringEquals against
request values it collects only for trust policies, so a statement with a wrong condition still
allows here.
Resource policies (bucket/queue/topic/key policies), permission boundaries, SCPs, session policies
and KMS key policies are not evaluated. Of the KMS calls a service makes on the caller's behalf,
S3's for an object of a bucket whose default encryption names a customer-managed key are checked at
the client (PutObject kms:GenerateDataKey, GetObject kms:Decrypt on that key: stubbed_services.py),
and DynamoDB's for an item operation on a table with a customer-managed key (kms:Decrypt on it);
no other service's. Pre-signed requests are not authorized by moto (a pre-signed POST is modelled
by uploading as its signer). moto's matching differs from IAM's in details: each pattern becomes a
regex with only `*` translated, so `.` matches any character, `?` is a regex quantifier, matching
is case-sensitive for actions, `NotResource` and policy variables (`${aws:username}`,
`${cognito-identity.amazonaws.com:sub}`) are not supported. DynamoDB/SNS/SES denials reach botocore
as moto's XML `AccessDenied` body on HTTP 403, so the parsed error code can read `403` where AWS
says `AccessDeniedException`; the message names the action either way. Template assertions
(test_stack.py files, and the wiring tests where noted) cover the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session

from tests.support.iam_refusals import Attempt, Refusal, attempt, refusals
from tests.support.iam_resource_arns import resource_arns
from tests.support.stubbed_services import (
    authorize,
    dax_checked,
    dax_cluster,
    register_dax_cluster,
    register_neptune_cluster,
    register_stubbed_service_checks,
)
from tests.support.stubbed_services import forget_clusters as _forget_clusters

__all__ = [
    "Attempt",
    "Refusal",
    "RoleCredentials",
    "attempt",
    "authorize",
    "dax_checked",
    "dax_cluster",
    "enforced",
    "forget_clusters",
    "harness_session",
    "refusals",
    "register_dax_cluster",
    "register_neptune_cluster",
    "unenforced",
]


@dataclasses.dataclass(frozen=True)
class RoleCredentials:
    """Temporary credentials of one role of a template, issued by moto's STS."""

    role_arn: str
    role_logical_id: str
    region: str
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        """What Lambda puts in a function's environment for its execution role."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def session(self) -> boto3.Session:
        """A boto3 session of these credentials (one per credentials: clients made from it share
        botocore's parsed service models, which take a second to load for EC2)."""
        if self.access_key_id not in _SESSIONS:
            core = botocore.session.Session()
            core.register_component("data_loader", _shared_loader())
            session = boto3.Session(
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                aws_session_token=self.session_token,
                region_name=self.region,
                botocore_session=core,
            )
            register_stubbed_service_checks(session, self)
            _SESSIONS[self.access_key_id] = session
        return _SESSIONS[self.access_key_id]

    def client(self, service: str, **kwargs) -> Any:
        return self.session().client(service, **kwargs)


_SESSIONS: dict[str, boto3.Session] = {}


@functools.cache
def _shared_loader():
    """One botocore data loader for every role session (it caches the parsed models)."""
    return botocore.session.Session().get_component("data_loader")


def harness_session(region: str) -> boto3.Session:
    """A session of the test's own (environment) credentials sharing the parsed models."""
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core, region_name=region)


def forget_clusters() -> None:
    """Forget this test's clusters and sessions (the `local_stack` fixture calls it)."""
    _forget_clusters()
    _SESSIONS.clear()


# -- switching enforcement on ----------------------------------------------------------------------


@contextlib.contextmanager
def enforced() -> Iterator[None]:
    """moto authorizes every request in this block (signature + the caller's IAM policies)."""
    from moto.core.authorization import enable_iam_authentication

    with resource_arns(), enable_iam_authentication():
        yield


@contextlib.contextmanager
def unenforced() -> Iterator[None]:
    """The test harness's own calls inside an enforced block (e.g. a stand-in's setup)."""
    from moto.core.authorization import disable_iam_authentication

    with disable_iam_authentication():
        yield
