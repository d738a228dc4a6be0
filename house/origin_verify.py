"""OriginVerify: the secret header a CloudFront distribution adds to its origin requests, so the
origin can refuse every request that did not come through it (an API's own `execute-api` URL,
a load balancer's DNS name: around the distribution's WAF, cache and headers).

    CloudFront origin  --X-Origin-Verify: <current>-->  origin checks it against
                                                       [<current>, <previous>]

    lock = OriginVerify(self, "OriginVerify", generation=settings.origin_secret_generation)
    origins.RestApiOrigin(api, custom_headers=lock.origin_headers)   # CloudFront sends it
    function.add_environment(**lock.function_environment)            # handler_kit.origin checks
    # or an ALB listener rule: http_header(lock.header, lock.accepted_values)
    lock.checkers_before(distribution, function)                     # the order of a rotation

The values are Secrets Manager secrets (32 random letters and digits), resolved by
CloudFormation at deploy time into the distribution's origin header and into the checker: they
are never in a template or in cdk.out, and the checker needs no network path to Secrets Manager
(a function in isolated subnets has none).

Rotation, decided: bump the generation setting and deploy. The deploy creates the secret of the
new generation, points the checker at [new, previous], then CloudFront at the new one (the
distribution depends on every checker: `checkers_before`), and deletes the generation before
the previous, in that order (CloudFormation creates and updates before it deletes, and waits
for the distribution to be deployed). While CloudFront's edges
switch over, both values are accepted, so no valid request is ever refused; the generation
before is deleted only once CloudFront no longer sends it. A Secrets Manager rotation Lambda
was the alternative and is refused: it would need cloudfront:UpdateDistribution, which cannot
be narrowed to one header (whoever holds it can re-point every origin of the distribution or
detach its WAF), and it would drift the distribution away from its template. A bumped setting
is one reviewed line in cdk.json and one deploy; docs/my-blog.md says when to do it.

Why the values sit in the checker's configuration (a function's environment, a listener rule)
rather than being fetched at run time: whoever can read the distribution's configuration can
read the header anyway, so the secret's reach is "principals who can read this stack's
resources" either way, and the check costs no request, no cold-start time and no VPC endpoint.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from house.compliance import acknowledge

HEADER = "X-Origin-Verify"
VALUE_LENGTH = 32
# handler_kit.origin reads these (lambda_src/layers/handler_kit/handler_kit/origin.py).
HEADER_VARIABLE = "ORIGIN_VERIFY_HEADER"
VALUES_VARIABLE = "ORIGIN_VERIFY_VALUES"


class OriginVerify(Construct):
    """Attributes: header, generation, secrets (generation -> secret: the current one and, from
    generation 2 on, the previous one), current, previous (or None)."""

    def __init__(self, scope: Construct, id: str, *, generation: int, what: str) -> None:
        """`generation`: 1, 2, ...: each bump is a rotation. `what`: the origin, for the
        secrets' descriptions (e.g. "MyBlog-prod's REST API")."""
        super().__init__(scope, id)
        if not isinstance(generation, int) or generation < 1:
            raise ValueError(f"OriginVerify {id!r}: generation {generation!r}; allowed: 1, 2, ...")
        self.header = HEADER
        self.generation = generation
        self.secrets: dict[int, secretsmanager.Secret] = {}
        for number in (generation - 1, generation):
            if number < 1:
                continue
            secret = secretsmanager.Secret(
                self,
                f"Generation{number}",
                description=f"Origin-verify value {number} of {what}: CloudFront sends the "
                f"newest in {HEADER}, the origin accepts the newest two",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=VALUE_LENGTH
                ),
                # Nothing to keep: a new deploy makes new values, and the old ones must go.
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Rotated by bumping the origin_secret_generation setting: the deploy adds the "
                "next value, accepts both while CloudFront switches over, then deletes this one "
                "(house/origin_verify.py). A rotation Lambda would need "
                "cloudfront:UpdateDistribution, which cannot be limited to one header.",
            )
            self.secrets[number] = secret
        self.current = self.secrets[generation]
        self.previous = self.secrets.get(generation - 1)

    @staticmethod
    def _value(secret: secretsmanager.Secret) -> str:
        # A CloudFormation dynamic reference: resolved at deploy, never written to cdk.out.
        return secret.secret_value.unsafe_unwrap()

    @property
    def origin_headers(self) -> dict[str, str]:
        """The custom origin header CloudFront adds (`custom_headers=` of the origin)."""
        return {self.header: self._value(self.current)}

    @property
    def accepted_values(self) -> list[str]:
        """What the origin accepts: the current value, then the previous one if any."""
        return [self._value(s) for s in (self.current, self.previous) if s is not None]

    @property
    def function_environment(self) -> dict[str, str]:
        """The environment handler_kit.origin reads (the generated values have no comma)."""
        return {
            HEADER_VARIABLE: self.header,
            VALUES_VARIABLE: cdk.Fn.join(",", self.accepted_values),
        }

    def checkers_before(self, distribution: Construct, *checkers: Construct) -> None:
        """Make CloudFormation update every checker before the distribution: in a rotation the
        checkers accept the new value before any edge sends it (and a rollback reverts them
        after it)."""
        for checker in checkers:
            distribution.node.add_dependency(checker)
