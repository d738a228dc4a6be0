"""The buckets CloudFront reads, as a synthesized template has them (house.defaults.origin_key):
prod (a stage that keeps data) encrypts them with the stack's one customer-managed key, whose
policy admits the account (so IAM decides for its roles) and CloudFront for this account's
distributions, nothing else; dev keeps them on SSE-S3 and has no such key."""

from __future__ import annotations

from tests.support.iam_statements import as_list, statements_of

ROOT = {"AWS": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}


def _path(resource: dict) -> str:
    return resource.get("Metadata", {}).get("aws:cdk:path", "")


def _by_path(t: dict, suffix: str) -> tuple[str, dict]:
    found = [(k, r) for k, r in t["Resources"].items() if _path(r).endswith(suffix)]
    assert len(found) == 1, f"{len(found)} resources at */{suffix}"
    return found[0]


def origin_key_id(t: dict) -> str | None:
    """The logical id of the stack's origin key, None if it has none."""
    keys = [
        k
        for k, r in t["Resources"].items()
        if r["Type"] == "AWS::KMS::Key" and _path(r).endswith("/OriginKey/Resource")
    ]
    assert len(keys) <= 1, f"one origin key per stack, found {keys}"
    return keys[0] if keys else None


def assert_cloudfront_origins_encrypted(t: dict, keep_data: bool, *bucket_paths: str) -> None:
    """Every bucket at `bucket_paths` (path suffixes, e.g. "Site/Bucket/Resource") is SSE-KMS
    with the stack's origin key when `keep_data`, else SSE-S3 (and the stack has no such key)."""
    key_id = origin_key_id(t)
    for path in bucket_paths:
        _, bucket = _by_path(t, path)
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        if keep_data:
            assert default == {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
            }, path
            assert rule["BucketKeyEnabled"] is True  # few KMS requests, few request charges
        else:
            assert default == {"SSEAlgorithm": "AES256"}, path
    if not keep_data:
        assert key_id is None, "dev has no origin key (it bills per key-month at idle)"
        return
    key = t["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"  # the buckets it encrypts are kept too
    allowed = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Effect"] == "Allow"]
    # The account (IAM decides for its roles: the writers' grants below), and CloudFront.
    assert [s["Principal"] for s in allowed] == [
        ROOT,
        {"Service": "cloudfront.amazonaws.com"},
    ]
    cloudfront = allowed[1]
    assert cloudfront["Action"] == "kms:Decrypt"
    # This account's distributions (the distribution itself would be a cycle: key -> it ->
    # bucket -> key); each bucket's policy admits only this stack's distribution.
    assert cloudfront["Condition"] == {
        "ArnLike": {
            "AWS:SourceArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":cloudfront::",
                        {"Ref": "AWS::AccountId"},
                        ":distribution/*",
                    ],
                ]
            }
        }
    }


def origin_key_actions(t: dict, role_id: str) -> set[str]:
    """The KMS actions `role_id` may take on the stack's origin key (none without one)."""
    key_id = origin_key_id(t)
    if key_id is None:
        return set()
    arn = {"Fn::GetAtt": [key_id, "Arn"]}
    return {
        action
        for s in statements_of(t, role_id)
        if s["Effect"] == "Allow" and arn in as_list(s["Resource"])
        for action in as_list(s["Action"])
    }


def role_of(t: dict, function_path: str) -> str:
    """The logical id of the role of the Lambda function at `function_path` (a path suffix)."""
    _, function = _by_path(t, function_path)
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


def roles_using_origin_key(t: dict) -> dict[str, set[str]]:
    """Role path -> its KMS actions on the origin key, for every role that has any."""
    return {
        _path(role).removesuffix("/Resource"): actions
        for role_id, role in t["Resources"].items()
        if role["Type"] == "AWS::IAM::Role" and (actions := origin_key_actions(t, role_id))
    }
