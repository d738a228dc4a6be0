"""Issue 12 item 1, end to end: every prod stack the shipped profiles give a domain to (the
placeholder names of cdk.json) is refused by `make preflight`'s domain check, read from its
real synthesized template; dev, without domains, has nothing for the check to say."""

from __future__ import annotations

import boto3
import pytest

from deployment.assembly import Assembly
from deployment.preflight_checks import check_domains
from house.domains import PLACEHOLDER_HOSTED_ZONE_ID
from tests.support.preflight_fakes import preflight_for
from tests.support.synth import requires

# Stack id -> a placeholder name its prod template must carry (cdk.json's prod profiles).
SHIPPED = {
    "ServerlessWebApp": "rides.example.com",
    "ServerlessWebAppAmplify": "rides-amplify.example.com",
    "EmployeeDirectoryServerless": "directory.example.com",
    "EmployeeDirectoryClassic": "directory-classic.example.com",
}
BLUEPRINT = {
    "ServerlessWebApp": "serverless-web-app",
    "ServerlessWebAppAmplify": "serverless-web-app",
    "EmployeeDirectoryServerless": "employee-directory",
    "EmployeeDirectoryClassic": "employee-directory",
}


@pytest.mark.parametrize(
    "stack_id",
    [pytest.param(s, marks=requires(BLUEPRINT[s])) for s in SHIPPED],
)
def test_the_shipped_prod_domain_is_refused_until_it_is_yours(aws, synth, stack_id):
    prod = synth("prod")
    prod.require(stack_id)
    (result,) = check_domains(preflight_for(Assembly(prod.outdir).stack(stack_id), boto3.Session()))
    assert result.status == "FAIL"
    assert SHIPPED[stack_id] in result.detail
    if stack_id != "ServerlessWebAppAmplify":  # Amplify writes its records itself
        assert PLACEHOLDER_HOSTED_ZONE_ID in result.detail
    dev = synth("dev")
    dev.require(stack_id)
    assert not list(
        check_domains(preflight_for(Assembly(dev.outdir).stack(stack_id), boto3.Session()))
    )
