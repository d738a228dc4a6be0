"""ServerlessWebApp fixtures: both shipped instances (one per hosting mode), each stage, and the
variants cdk.json does not ship (cross-origin API, Amplify built from Git), synthesized once per
session with only this blueprint."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.intrinsics import TemplateResolver
from tests.support.synth import Synthesized, synthesize_once

# instance -> its stack id, as cdk.json ships them.
INSTANCES = {
    "serverless-web-app": "ServerlessWebApp",
    "serverless-web-app-amplify": "ServerlessWebAppAmplify",
}
REPOSITORY = "https://github.com/you/your-fork"
TOKEN_SECRET = "amplify/github-token"


@dataclass
class Built:
    """One instance of the blueprint in one assembly: its template, settings and resolver."""

    assembly: Synthesized
    instance: str
    stack_id: str

    @property
    def template(self) -> dict:
        return self.assembly.template(self.stack_id)

    @property
    def settings(self):
        return self.assembly.settings(self.instance)

    @property
    def resolver(self) -> TemplateResolver:
        return TemplateResolver(
            self.template,
            stack_name=self.assembly.stack_name(self.stack_id),
            assembly_dir=self.assembly.outdir,
            region=self.assembly.stage_settings.region or "us-east-1",
        )

    def resources(self, resource_type: str) -> dict[str, dict]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == resource_type}

    def only(self, resource_type: str) -> tuple[str, dict]:
        (found,) = self.resources(resource_type).items()
        return found


@pytest.fixture(params=sorted(INSTANCES))
def built(request, assembly) -> Built:
    """Each shipped instance (hosting mode) in each stage."""
    assembly.require(INSTANCES[request.param])
    return Built(assembly, request.param, INSTANCES[request.param])


@pytest.fixture(scope="session")
def variant(tmp_path_factory):
    """`variant("dev", "cross-origin")` -> the blueprint alone with settings cdk.json does not
    ship, built once per session: "cross-origin" (both instances with cross_origin_api=true),
    "git" (the Amplify instance built from a repository)."""
    built: dict[tuple[str, str], Synthesized] = {}
    overrides = {
        "cross-origin": {
            "serverless-web-app.cross_origin_api": "true",
            "serverless-web-app-amplify.cross_origin_api": "true",
        },
        "git": {
            "serverless-web-app-amplify.amplify_repository": REPOSITORY,
            "serverless-web-app-amplify.amplify_token_secret": TOKEN_SECRET,
        },
    }

    def get(stage: str, name: str) -> Synthesized:
        if (stage, name) not in built:
            built[stage, name] = synthesize_once(
                tmp_path_factory,
                stage,
                {"blueprints_only": ",".join(INSTANCES), **overrides[name]},
            )
        return built[stage, name]

    return get
