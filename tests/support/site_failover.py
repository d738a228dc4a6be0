"""A static site's origin failover, as a synthesized assembly has it (patterns/web/static_site.py
`failover`): with the settings' `failover_region`, a replica of the site bucket in the
`<StackId>Failover` companion there, S3 replication to it by a role that may do only that, and
an origin group on the distribution; without, one origin and no companion. Every site blueprint
asserts its stacks with `assert_site_failover`, reading what to expect from its settings."""

from __future__ import annotations

from deployment.assembly import Assembly
from tests.support.iam_statements import as_list, statements_of
from tests.support.origin_key import ROOT
from tests.support.synth import Synthesized, region_of

FAILOVER_CODES = [500, 502, 503, 504]


def _path(resource: dict) -> str:
    return resource.get("Metadata", {}).get("aws:cdk:path", "")


def _at(t: dict, suffix: str) -> tuple[str, dict]:
    found = [(k, r) for k, r in t["Resources"].items() if _path(r).endswith(suffix)]
    assert len(found) == 1, f"{len(found)} resources at */{suffix}"
    return found[0]


def _distribution(t: dict) -> dict:
    (d,) = [r for r in t["Resources"].values() if r["Type"] == "AWS::CloudFront::Distribution"]
    return d["Properties"]["DistributionConfig"]


def _objects(arn) -> dict:
    return {"Fn::Join": ["", [arn, "/*"]]}


def assert_site_failover(
    assembly: Synthesized, stack_id: str, *, failover_region: str | None, keep_data: bool
) -> None:
    """`stack_id`'s site (construct `Site`) fails over to its replica in `failover_region`, or,
    with None, has one origin, no replication and no companion."""
    t = assembly.template(stack_id)
    companion_id = f"{stack_id}Failover"
    config = _distribution(t)
    buckets = [r for r in t["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    if failover_region is None:
        assert companion_id not in assembly.stacks
        assert "OriginGroups" not in config
        assert not [b for b in buckets if "ReplicationConfiguration" in b["Properties"]]
        assert not [k for k, r in t["Resources"].items() if "ReplicationRole" in _path(r)]
        return

    # The companion: in failover_region, deployed before the site's stack; `make preflight
    # <stack>` follows the same order and checks each stack in its own region (its bootstrap
    # there: a second region needs `cdk bootstrap` too).
    assert region_of(assembly, companion_id) == failover_region != region_of(assembly, stack_id)
    assert companion_id in assembly.stacks[stack_id].get("dependencies", [])
    order = Assembly(assembly.outdir).deploy_order(stack_id)
    ids = [s.id for s in order]
    assert ids.index(companion_id) < ids.index(stack_id)
    assert order[ids.index(companion_id)].region == failover_region
    companion = assembly.template(companion_id)
    replica_id, replica = _at(companion, "Site/Replica/Resource")
    props = replica["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    logs_id, _ = _at(companion, "/AccessLogs/Resource")
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    key_arn = None
    if keep_data:
        key_id, key = _at(companion, "/OriginKey/Resource")
        key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": key_arn,
        }
        assert replica["DeletionPolicy"] == "Retain" and key["DeletionPolicy"] == "Retain"
        allowed = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Effect"] == "Allow"]
        assert [s["Principal"] for s in allowed] == [ROOT, {"Service": "cloudfront.amazonaws.com"}]
        assert allowed[1]["Action"] == "kms:Decrypt"
    else:
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
        assert replica["DeletionPolicy"] == "Delete"
    # CloudFront may read the replica's objects, for this account's distributions only.
    _, policy = _at(companion, "Site/Replica/Policy/Resource")
    (reads,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert reads["Action"] == "s3:GetObject"
    assert reads["Resource"] == _objects({"Fn::GetAtt": [replica_id, "Arn"]})
    assert reads["Condition"]["StringEquals"] == {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = reads["Condition"]["ArnLike"]["AWS:SourceArn"]["Fn::Join"][1]
    assert source_arn[2:] == [":cloudfront::", {"Ref": "AWS::AccountId"}, ":distribution/*"]

    def read(reference):  # a value of the companion, as the site's stack reads it
        return assembly.stack_output_read_by(reference)

    def local(value):  # `value` with every value read from the companion as the companion has it
        if isinstance(value, dict):
            if "Fn::GetStackOutput" in value:
                return read(value)
            return {k: local(v) for k, v in value.items()}
        if isinstance(value, list):
            return [local(v) for v in value]
        return value

    # The site bucket replicates every version and delete marker to the replica.
    bucket_id, bucket = _at(t, "Site/Bucket/Resource")
    replication = bucket["Properties"]["ReplicationConfiguration"]
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    (rep,) = replication["Rules"]
    assert rep["Status"] == "Enabled" and rep["Filter"] == {"Prefix": ""}
    assert rep["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert "Priority" in rep
    assert read(rep["Destination"]["Bucket"]) == {"Fn::GetAtt": [replica_id, "Arn"]}
    if keep_data:
        assert rep["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
        assert read(rep["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]) == key_arn
    else:
        assert "SourceSelectionCriteria" not in rep
        assert "EncryptionConfiguration" not in rep["Destination"]

    # The replication role: assumed by S3 only, exactly the actions on exactly these buckets.
    role_id = replication["Role"]["Fn::GetAtt"][0]
    role = t["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role
    source = {"Fn::GetAtt": [bucket_id, "Arn"]}
    replica_arn = {"Fn::GetAtt": [replica_id, "Arn"]}
    expected = {
        "s3:GetReplicationConfiguration": [source],
        "s3:ListBucket": [source],
        **{
            action: [_objects(source)]
            for action in (
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            )
        },
        **{
            action: [_objects(replica_arn)]
            for action in ("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags")
        },
    }
    if keep_data:
        encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        source_key = encryption[0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
        expected |= {
            "kms:Decrypt": [source_key],
            "kms:Encrypt": [key_arn],
            "kms:GenerateDataKey": [key_arn],
        }
    granted: dict[str, list] = {}
    for s in statements_of(t, role_id):
        assert s["Effect"] == "Allow"
        for action in as_list(s["Action"]):
            granted.setdefault(action, []).extend(local(r) for r in as_list(s["Resource"]))
        if any(a.startswith("kms:") for a in as_list(s["Action"])):
            # Through S3 in the bucket's own region, for that bucket's objects only.
            (bucket_arn, objects) = local(s["Condition"]["StringLike"])[
                "kms:EncryptionContext:aws:s3:arn"
            ]
            assert bucket_arn in (source, replica_arn) and objects == _objects(bucket_arn)
            region = region_of(assembly, stack_id if bucket_arn == source else companion_id)
            via = s["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Join"][1]
            assert via == [f"s3.{region}.", {"Ref": "AWS::URLSuffix"}]
    assert granted == expected

    # The distribution: the default behaviour's target is a two-member origin group.
    (group,) = config["OriginGroups"]["Items"]
    assert config["OriginGroups"]["Quantity"] == 1
    assert group["Members"]["Quantity"] == 2
    assert group["FailoverCriteria"]["StatusCodes"] == {
        "Items": FAILOVER_CODES,
        "Quantity": len(FAILOVER_CODES),
    }
    first, second = (m["OriginId"] for m in group["Members"]["Items"])
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins[first]["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}
    assert read(origins[second]["DomainName"]) == {"Fn::GetAtt": [replica_id, "RegionalDomainName"]}
    assert origins[second]["OriginAccessControlId"] == origins[first]["OriginAccessControlId"]
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == group["Id"]
    assert set(default.get("AllowedMethods", ["GET", "HEAD"])) <= {"GET", "HEAD", "OPTIONS"}


def assert_failover_setting_rules(cls: type, where: str, **prod_needs) -> None:
    """The rules of `SiteFailoverSettings` as settings model `cls` (cdk.json path `where`)
    applies them: prod needs failover_region (another region than the stage's) unless
    allow_single_origin; dev may go without. `prod_needs`: the other settings prod requires of
    `cls` (a domain, ...)."""
    from house.settings import StageSettings, parse_settings

    def stage(name: str, region: str | None = "us-east-1") -> StageSettings:
        return StageSettings(name=name, project="p", team="t", region=region)

    def parse(at: StageSettings, **raw):
        return parse_settings(cls, {**prod_needs, **raw}, where, stage=at)

    def problem(at: StageSettings, **raw) -> str:
        try:
            parse(at, **raw)
        except ValueError as error:
            return str(error)
        raise AssertionError(f"{raw} in {at.name} was accepted")

    message = problem(stage("prod"))
    assert message.startswith(f"setting '{where}.failover_region' is None"), message
    assert "set allow_single_origin true" in message and "CT.CLOUDFRONT.PR.4" in message
    assert parse(stage("prod"), allow_single_origin=True).failover_region is None
    assert parse(stage("prod"), failover_region="us-west-2").failover_region == "us-west-2"
    same = problem(stage("prod"), failover_region="us-east-1")
    assert same.startswith(f"setting '{where}.failover_region' is 'us-east-1'"), same
    assert "must differ from the stage's region (us-east-1, stages.prod.region)" in same
    unplaced = problem(stage("prod", None), failover_region="us-west-2")
    assert "set stages.prod.region" in unplaced, unplaced
    assert "an AWS region name" in problem(stage("prod"), failover_region="West US")
    assert parse(stage("dev")).failover_region is None  # dev: one region, no companion
    assert parse(stage("dev"), failover_region="us-west-2").failover_region == "us-west-2"


def assert_ships_failover_in_prod_only(blueprint: str) -> None:
    """cdk.json's profiles of site blueprint `blueprint`: prod's site bucket has a replica in
    us-west-2 (the <StackId>Failover companion), which CloudFront serves from when the bucket
    fails: a region of its own, far from prod's us-east-1, in the same country. Dev has one
    origin: no second region or stack to pay for."""
    from tests.support.synth import shipped_settings, shipped_stage

    prod = shipped_settings(blueprint, "prod")
    assert shipped_stage("prod").region == "us-east-1"
    assert prod.failover_region == "us-west-2" and not prod.allow_single_origin
    dev = shipped_settings(blueprint, "dev")
    assert dev.failover_region is None and not dev.allow_single_origin
