"""MyBlog wiring, dev and prod: each handler runs from its synthesized asset (with the layer the
template attaches), with the environment the template sets and as the execution role the template
gives it (moto enforcing that role's policies), against the tables, buckets, queues, topic, keys,
secrets and SES identity the template declares (created in moto by tests/support/wiring.py).

Requests reach the API functions as CloudFront sends them: with the custom origin headers of the
distribution's /api/* origin in the template (the origin-verify secret resolved from moto's
Secrets Manager, as CloudFormation resolves it at deploy) and the viewer address the origin
request policy forwards. Paths driven end to end (issues 8 and 12):
- the origin lock (`lock_origin`, prod): a call without CloudFront's header, or with a wrong one,
  is a 403 from every function behind the API and changes nothing; CloudFront's own header
  passes (the value in the distribution is the one the functions accept);
- with subscriptions on (`sender_email` set, as `-c my-blog.sender_email=...` does; cdk.json
  leaves it off), double opt-in: subscribe -> the pending item lands in the template's
  subscribers table -> its record, read back from that table's stream and passed through the
  mapping's filters *from the template*, makes the welcome function send one confirmation mail
  from the identity the template creates -> the link in that mail confirms -> the MODIFY record
  makes it send the welcome -> the unsubscribe link in that mail forgets the address; a
  redelivered batch sends nothing twice; with it off, there is no subscription route at all;
- an author asks the API for an upload URL -> the photo lands at that key -> the bucket
  notification filter from the template selects it -> the thumbnail function writes the
  thumbnail where the distribution's `/thumbnails/*` behaviour and the bucket policy serve it.

Prod sets DAX_ENDPOINT to the cluster's discovery URL; DAX's wire protocol cannot run here, so
amazondax.AmazonDaxClient is replaced by a stand-in that records how the layer built it, checks
the function's dax:* grant on the cluster and answers from moto DynamoDB as the cluster's service
role (the same boto3 resource API the DAX client offers).

Lambda's own calls with each role (logs, X-Ray, VPC interfaces, reading the stream, the on-failure
queue, the dead-letter queue) are made as that role too, and the last tests remove one grant a
path needs and show that path failing with AccessDenied. Prod's media bucket is SSE-KMS with the
stack's origin key: the signer's upload (kms:GenerateDataKey) and the thumbnail function's read
and write (kms:Decrypt, kms:GenerateDataKey) are checked against that key's grants as S3 would
(tests/support/stubbed_services.py). Not exercised here: the prod grants of
kms:Decrypt on the subscribers table's key (moto's DynamoDB does not call KMS); the template
tests pin them.
"""

from __future__ import annotations

import fnmatch
import json
import re

import boto3
import pytest
from botocore.config import Config
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.my_blog.events import AUTHOR, api_event, jpeg_photo, json_body, s3_event
from tests.support.apigateway import integration_invokes
from tests.support.dax import DaxStandIn, dax_stand_in  # noqa: F401 (fixture)
from tests.support.eventbridge import event_matches, started_functions
from tests.support.iam_enforcement import attempt
from tests.support.iam_statements import as_list, resolved_statements
from tests.support.lambda_service import LOG_STEPS, STREAM_STEPS, TRACING_STEPS, VPC_STEPS

STACK = "MyBlog"


@pytest.fixture
def blog(assembly, local_stack, dax_stand_in):
    return local_stack(assembly, STACK)


@pytest.fixture
def blog_with_sender(sender_assembly, local_stack, dax_stand_in):
    return local_stack(sender_assembly, STACK)


def table_name(blog, subscribers: bool = False) -> str:
    """The posts table, or the subscribers table (blueprints/my_blog/subscriptions.py)."""
    (table_id,) = [
        k
        for k, r in blog.of_type("AWS::DynamoDB::GlobalTable").items()
        if ("/Subscriptions/" in r["Metadata"]["aws:cdk:path"]) == subscribers
    ]
    return blog.ref(table_id)


VIEWER = "198.51.100.20"


def edge_headers(blog) -> dict[str, str]:
    """What CloudFront adds to every request it sends the /api/* origin, per the template: the
    origin's custom headers, and the viewer's address where the origin request policy asks."""
    (dist_id,) = blog.of_type("AWS::CloudFront::Distribution")
    config = blog.properties(dist_id)["DistributionConfig"]
    (behaviour,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    (origin,) = [o for o in config["Origins"] if o["Id"] == behaviour["TargetOriginId"]]
    headers = {h["HeaderName"]: h["HeaderValue"] for h in origin.get("OriginCustomHeaders", [])}
    (policy_id,) = blog.of_type("AWS::CloudFront::OriginRequestPolicy")
    forwarded = blog.properties(policy_id)["OriginRequestPolicyConfig"]["HeadersConfig"]
    if "CloudFront-Viewer-Address" in forwarded.get("Headers", []):
        headers["CloudFront-Viewer-Address"] = f"{VIEWER}:51234"
    return headers


def via_cloudfront(blog, method: str, path: str, **kwargs) -> dict:
    """The event API Gateway delivers for a request that came through the distribution."""
    return api_event(
        method, path, headers={**edge_headers(blog), **kwargs.pop("headers", {})}, **kwargs
    )


def stream_records(blog, consumer) -> list[dict]:
    """Every record on the subscribers table's stream so far, as Lambda would receive it: read
    the way the event source mapping reads it, with the consuming function's role."""
    table = boto3.client("dynamodb", region_name=blog.region).describe_table(
        TableName=table_name(blog, subscribers=True)
    )["Table"]
    arn = table["LatestStreamArn"]
    records = []
    with consumer.as_role() as role:
        # botocore sends StreamArn calls to <account>.streams-ddb...; moto answers the classic host.
        streams = role.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            records += streams.get_records(ShardIterator=iterator)["Records"]
    return [{**r, "eventSourceARN": arn} for r in records]


def mapping_filters(blog, function_logical_id: str) -> list[dict]:
    """The filter patterns of the event source mapping that feeds the function the subscribers
    table's stream."""
    (mapping_id,) = [
        k
        for k, r in blog.of_type("AWS::Lambda::EventSourceMapping").items()
        if r["Properties"]["FunctionName"] == {"Ref": function_logical_id}
    ]
    mapping = blog.resources[mapping_id]["Properties"]
    (table_id,) = [
        k
        for k, r in blog.of_type("AWS::DynamoDB::GlobalTable").items()
        if "/Subscriptions/" in r["Metadata"]["aws:cdk:path"]
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    return [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]


def delivered(blog, consumer, since: int = 0) -> list[dict]:
    """The stream records from index `since` that the template's filters pass to `consumer`."""
    patterns = mapping_filters(blog, consumer.logical_id)
    records = stream_records(blog, consumer)[since:]
    return [r for r in records if any(event_matches(p, r) for p in patterns)]


def emails() -> list:
    backends = ses_backends[DEFAULT_ACCOUNT_ID].values()
    return [message for backend in backends for message in backend.sent_messages]


def link(message, action: str) -> str:
    (token,) = re.findall(rf"/subscription#{action}=(\S+)", message.body)
    return token


def subscriber(blog, email: str) -> dict | None:
    return (
        boto3.resource("dynamodb", region_name=blog.region)
        .Table(table_name(blog, subscribers=True))
        .get_item(Key={"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"})
        .get("Item")
    )


def test_a_subscriber_confirms_is_welcomed_once_and_can_unsubscribe(assembly, blog_with_sender):
    blog = blog_with_sender
    subs = blog.function("Subscriptions/Handler")
    welcome = blog.function("Subscriptions/WelcomeEmail/Function")
    table = table_name(blog, subscribers=True)
    assert subs.environment["TABLE_NAME"] == welcome.environment["TABLE_NAME"] == table
    assert subs.environment["TOKEN_KEY_ID"] == welcome.environment["TOKEN_KEY_ID"]
    assert table != table_name(blog)  # the addresses are not in the posts table

    # 1. subscribe (through CloudFront): pending, and exactly one record for the mailer
    answer = subs.invoke(
        via_cloudfront(blog, "POST", "/api/subscribers", body={"email": "Reader@Example.com"})
    )
    assert answer["statusCode"] == 202, answer
    assert subscriber(blog, "reader@example.com")["status"] == "pending"
    requested = delivered(blog, welcome)
    assert [r["eventName"] for r in requested] == ["INSERT"]  # not the request count's records
    seen = len(stream_records(blog, welcome))
    assert welcome.invoke({"Records": requested}) == {"batchItemFailures": []}
    (confirmation,) = emails()
    sender_id = blog.logical_id("SenderIdentity", "AWS::SES::EmailIdentity")
    identity = blog.properties(sender_id)["EmailIdentity"]
    assert confirmation.source == welcome.environment["SENDER"] == identity
    assert confirmation.destinations["ToAddresses"] == ["reader@example.com"]
    assert confirmation.subject.startswith("Confirm")
    # The function's own claim is a MODIFY the filters keep away; a redelivery sends nothing.
    assert delivered(blog, welcome, since=seen) == []
    assert welcome.invoke({"Records": requested}) == {"batchItemFailures": []}
    assert len(emails()) == 1

    # 2. the link in the mail confirms (the mailer signed it, the API verified it: one key)
    seen = len(stream_records(blog, welcome))
    confirm = via_cloudfront(
        blog, "POST", "/api/subscribers/confirm", body={"token": link(confirmation, "confirm")}
    )
    assert subs.invoke(confirm)["statusCode"] == 200
    confirmed = delivered(blog, welcome, since=seen)
    assert [r["eventName"] for r in confirmed] == ["MODIFY"]
    assert welcome.invoke({"Records": confirmed}) == {"batchItemFailures": []}
    welcome_mail = emails()[1]
    assert welcome_mail.subject.startswith("Welcome")
    assert welcome.invoke({"Records": confirmed}) == {"batchItemFailures": []}
    assert len(emails()) == 2

    # 3. the unsubscribe link in the welcome forgets the address; nothing is mailed for that
    seen = len(stream_records(blog, welcome))
    forget = via_cloudfront(
        blog,
        "POST",
        "/api/subscribers/unsubscribe",
        body={"token": link(welcome_mail, "unsubscribe")},
    )
    assert subs.invoke(forget)["statusCode"] == 200
    assert subscriber(blog, "reader@example.com") is None
    removed = [
        r["eventName"]
        for r in stream_records(blog, welcome)[seen:]
        if r["dynamodb"]["Keys"]["pk"]["S"].startswith("SUBSCRIBER#")
    ]
    assert removed == ["REMOVE"]
    assert delivered(blog, welcome, since=seen) == []

    cluster = list(blog.of_type("AWS::DAX::Cluster"))
    if assembly.settings("my-blog").dax:
        assert len(cluster) == 1 and "DAX_ENDPOINT" not in subs.environment
    assert DaxStandIn.made == []  # subscriptions never go through the posts' cache


def test_without_a_sender_there_is_no_subscription_route_and_nobody_is_emailed(assembly, blog):
    """Without sender_email: no route takes an address, no subscribers table, no stream consumer
    and no SES identity (a subscription nobody can confirm would only collect addresses)."""
    if assembly.settings("my-blog").sender_email is not None:
        pytest.skip("this stage sets sender_email")
    api = blog.function("Api/Handler")
    answer = api.invoke(
        via_cloudfront(blog, "POST", "/api/subscribers", body={"email": "reader@example.com"})
    )
    assert answer["statusCode"] == 404 and json_body(answer)["code"] == "NoSuchRoute"
    paths = {
        r["Properties"].get("PathPart") for r in blog.of_type("AWS::ApiGateway::Resource").values()
    }
    assert "subscribers" not in paths
    assert len(blog.of_type("AWS::DynamoDB::GlobalTable")) == 1
    assert not list(blog.of_type("AWS::Lambda::EventSourceMapping"))
    assert not list(blog.of_type("AWS::SES::EmailIdentity"))
    assert emails() == []


# -- the origin lock: no way around the edge (issue 12) --------------------------------------------


API_CALLS = [
    ("Api/Handler", "GET", "/api/posts", {}),
    ("Api/Handler", "POST", "/api/posts", {"body": {"title": "T", "body": "b"}, "author": AUTHOR}),
    ("Subscriptions/Handler", "POST", "/api/subscribers", {"body": {"email": "r@example.com"}}),
    ("Subscriptions/Handler", "POST", "/api/subscribers/confirm", {"body": {"token": "x"}}),
]


def test_every_function_behind_the_api_refuses_a_direct_call_where_the_lock_is_on(
    sender_assembly, local_stack, dax_stand_in
):
    """The template's distribution sends a header whose value only it knows (resolved from the
    secret at deploy); every function behind the API accepts exactly that value, and answers
    403 to a call that does not carry it, without writing anything (dev: no lock, no header)."""
    blog = local_stack(sender_assembly, STACK)
    locked = sender_assembly.settings("my-blog").lock_origin
    headers = edge_headers(blog)
    assert ("X-Origin-Verify" in headers) == locked
    for path, method, route, kwargs in API_CALLS:
        function = blog.function(path)
        assert ("ORIGIN_VERIFY_VALUES" in function.environment) == locked
        for forged in ({}, {"X-Origin-Verify": "A" * 32}):
            direct = function.invoke(api_event(method, route, headers=forged, **kwargs))
            if locked:
                assert direct["statusCode"] == 403, direct
                assert json_body(direct)["code"] == "NotThroughCloudFront"
            else:
                assert direct["statusCode"] != 403
        if locked:
            value = headers["X-Origin-Verify"]
            assert len(value) == 32 and value.isalnum() and "{{resolve" not in value
    if locked:
        for table in (table_name(blog), table_name(blog, subscribers=True)):
            rows = boto3.resource("dynamodb", region_name=blog.region).Table(table).scan()
            assert rows["Items"] == []  # nothing written, not even a request count
    through = blog.function("Api/Handler").invoke(via_cloudfront(blog, "GET", "/api/posts"))
    assert through["statusCode"] == 200


def test_a_rotation_keeps_cloudfronts_current_value_and_the_previous_one_valid(
    tmp_path_factory, local_stack, dax_stand_in
):
    """origin_secret_generation 2: CloudFront sends the new value, the functions accept it and
    the previous one (the edges still sending it while the distribution deploys)."""
    from tests.support.synth import synthesize_once

    rotated = synthesize_once(
        tmp_path_factory,
        "prod",
        {
            "blueprints_only": "my-blog",
            "my-blog.sender_email": "welcome@example.com",
            "my-blog.origin_secret_generation": "2",
        },
    )
    blog = local_stack(rotated, STACK)
    secrets = blog.of_type("AWS::SecretsManager::Secret")
    assert sorted(
        blog.resources[k]["Metadata"]["aws:cdk:path"].rsplit("/", 2)[1] for k in secrets
    ) == [
        "Generation1",
        "Generation2",
    ]
    values = {
        k: boto3.client("secretsmanager", region_name=blog.region).get_secret_value(
            SecretId=blog.ref(k)
        )["SecretString"]
        for k in secrets
    }
    current = next(v for k, v in values.items() if "Generation2" in k)
    previous = next(v for k, v in values.items() if "Generation1" in k)
    assert edge_headers(blog)["X-Origin-Verify"] == current
    for path in ("Api/Handler", "Subscriptions/Handler"):
        function = blog.function(path)
        assert function.environment["ORIGIN_VERIFY_VALUES"] == f"{current},{previous}"
    api = blog.function("Api/Handler")
    for value in (current, previous):
        answer = api.invoke(api_event("GET", "/api/posts", headers={"X-Origin-Verify": value}))
        assert answer["statusCode"] == 200
    # CloudFormation updates the functions before the distribution (and rolls back after it).
    (dist_id,) = blog.of_type("AWS::CloudFront::Distribution")
    assert set(blog.resources[dist_id]["DependsOn"]) >= {
        api.logical_id,
        blog.function("Subscriptions/Handler").logical_id,
    }


def test_api_gateway_invokes_each_function_behind_the_api_as_the_apis_role(blog_with_sender):
    """Every route (posts, uploads, subscribers) reaches its function the way API Gateway does:
    as the integration role the method names, which the function's own policy never admits
    (there is none, CT.LAMBDA.PR.2)."""
    blog = blog_with_sender
    behind = {blog.function(p).logical_id for p in ("Api/Handler", "Subscriptions/Handler")}
    invoked = set()
    for lid in blog.of_type("AWS::ApiGateway::Method"):
        integration = blog.resources[lid]["Properties"]["Integration"]
        if integration["Type"] != "AWS_PROXY":
            continue
        (function,) = [f for f in behind if f'"{f}"' in json.dumps(integration["Uri"])]
        integration_invokes(blog, integration["Credentials"], function)
        invoked.add(function)
    assert invoked == behind
    assert not [
        lid
        for lid, r in blog.of_type("AWS::Lambda::Permission").items()
        if "apigateway" in json.dumps(r["Properties"]["Principal"])
    ]


def test_posts_list_through_the_index_the_template_declares(blog):
    api = blog.function("Api/Handler")
    (table_id,) = blog.of_type("AWS::DynamoDB::GlobalTable")
    indexes = [i["IndexName"] for i in blog.properties(table_id)["GlobalSecondaryIndexes"]]
    assert api.environment["POSTS_INDEX"] in indexes
    for title in ("First post", "Second post"):
        created = api.invoke(
            via_cloudfront(
                blog, "POST", "/api/posts", body={"title": title, "body": "b"}, author=AUTHOR
            )
        )
        assert created["statusCode"] == 201, created
    listed = json_body(api.invoke(via_cloudfront(blog, "GET", "/api/posts", query={"limit": "5"})))
    assert sorted(p["slug"] for p in listed["posts"]) == ["first-post", "second-post"]
    got = api.invoke(via_cloudfront(blog, "GET", "/api/posts/second-post"))
    assert json_body(got)["title"] == "Second post"


def served_location(blog, path: str) -> tuple[str, str]:
    """(bucket, key) the distribution reads for viewer `path`, from its behaviours and origins."""
    (dist_id,) = blog.of_type("AWS::CloudFront::Distribution")
    config = blog.properties(dist_id)["DistributionConfig"]
    matching = [b for b in config["CacheBehaviors"] if fnmatch.fnmatchcase(path, b["PathPattern"])]
    assert matching, f"no behaviour of the distribution serves {path}"
    (origin,) = [o for o in config["Origins"] if o["Id"] == matching[0]["TargetOriginId"]]
    assert "S3OriginConfig" in origin and origin["OriginAccessControlId"]
    bucket = origin["DomainName"].split(".s3.")[0]
    return bucket, origin.get("OriginPath", "").lstrip("/") + path.lstrip("/")


def upload_as_signer(api, bucket: str, key: str, body: bytes) -> dict:
    with api.as_role() as role:
        return role.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def test_an_uploaded_photo_becomes_a_thumbnail_where_cloudfront_serves_it(blog):
    api = blog.function("Api/Handler")
    thumbs = blog.function("Thumbnails/Function")
    answer = api.invoke(
        via_cloudfront(
            blog, "POST", "/api/uploads", body={"contentType": "image/jpeg"}, author=AUTHOR
        )
    )
    assert answer["statusCode"] == 201, answer
    upload = json_body(answer)
    bucket = upload["upload"]["fields"].get("bucket") or api.environment["MEDIA_BUCKET"]
    key = upload["key"]

    # The browser/curl POSTs the photo to S3 with the pre-signed fields, and S3 authorizes the
    # upload as the policy's signer (the API's role); moto does not check pre-signed POSTs, so
    # the upload is made as that role.
    version = upload_as_signer(api, bucket, key, jpeg_photo(1600, 1200))["VersionId"]
    s3 = boto3.client("s3", region_name=blog.region)

    # The bucket sends its object events to EventBridge; a rule of the template must pick this
    # one (and only the thumbnail function) and hand it over as S3 sent it.
    assert blog.properties(blog.logical_id("Media", "AWS::S3::Bucket"))[
        "NotificationConfiguration"
    ] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    ((target, delivered_event),) = started_functions(blog, s3_event(bucket, key, version=version))
    assert target == blog.get_att(thumbs.logical_id, "Arn")
    assert thumbs.invoke(delivered_event) == {
        "thumbnails": 1,
        "rejected": 0,
        "ignored": 0,
    }

    # Where the viewer asks, CloudFront reads: the thumbnail must be exactly there ...
    served_bucket, served_key = served_location(blog, upload["thumbnailPath"])
    thumbnail = s3.get_object(Bucket=served_bucket, Key=served_key)
    assert thumbnail["ContentType"] == "image/jpeg" and thumbnail["ContentLength"] > 0
    # ... and the bucket policy must let this distribution read it.
    (policy_id,) = [
        k
        for k in blog.of_type("AWS::S3::BucketPolicy")
        if blog.properties(k)["Bucket"] == served_bucket
    ]
    readable = [
        s
        for s in blog.properties(policy_id)["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
        and fnmatch.fnmatchcase(f"arn:aws:s3:::{served_bucket}/{served_key}", s["Resource"])
    ]
    assert len(readable) == 1
    # A thumbnail written back into the bucket starts nothing: no recursion.
    assert started_functions(blog, s3_event(served_bucket, served_key)) == []

    photo = key.removeprefix(thumbs.environment["UPLOAD_PREFIX"]).rsplit(".", 1)[0]
    item = (
        boto3.resource("dynamodb", region_name=blog.region)
        .Table(table_name(blog))
        .get_item(Key={"pk": f"PHOTO#{photo}", "sk": "THUMBNAIL"})["Item"]
    )
    assert item["sourceKey"] == key and (item["width"], item["height"]) == (1600, 1200)


def test_a_corrupt_upload_lands_in_the_queue_the_template_dead_letters_to(blog):
    thumbs = blog.function("Thumbnails/Function")
    bucket = thumbs.environment["THUMBNAIL_BUCKET"]
    key = thumbs.environment["UPLOAD_PREFIX"] + "broken.png"
    s3 = boto3.client("s3", region_name=blog.region)
    s3.put_object(Bucket=bucket, Key=key, Body=b"\x89PNG\r\n\x1a\n but then nothing")
    assert thumbs.invoke(s3_event(bucket, key))["rejected"] == 1
    dlq_arn = thumbs.properties["DeadLetterConfig"]["TargetArn"]
    queue_url = boto3.client("sqs", region_name=blog.region).get_queue_url(
        QueueName=dlq_arn.rsplit(":", 1)[1]
    )["QueueUrl"]
    (message,) = boto3.client("sqs", region_name=blog.region).receive_message(QueueUrl=queue_url)[
        "Messages"
    ]
    assert json.loads(message["Body"])["key"] == key


def test_the_presigned_post_grant_is_exactly_the_upload_prefix_of_the_media_bucket(assembly, blog):
    """What moto cannot check (a pre-signed POST is authorized as its signer when S3 receives
    it): the API's role may put objects under the upload prefix of the media bucket, nothing
    else in S3."""
    api = blog.function("Api/Handler")
    bucket = api.environment["MEDIA_BUCKET"]
    s3 = [
        s
        for s in resolved_statements(blog, blog.names[api.role_logical_id])
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
    ]
    assert s3 == [
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": f"arn:aws:s3:::{bucket}/{api.environment['UPLOAD_PREFIX']}*",
        }
    ]
    assert api.environment["UPLOAD_PREFIX"] == assembly.settings("my-blog").upload_prefix


def test_lambda_itself_does_its_part_with_each_function_role(assembly, blog_with_sender):
    """Lambda's own calls with the execution role: logs into the function's log group, X-Ray,
    the API's VPC interfaces in prod, the welcome mapping reading the stream and parking a failed
    batch in its on-failure queue, the thumbnail function's dead-letter queue."""
    blog = blog_with_sender
    welcome = "Subscriptions/WelcomeEmail/Function"
    functions = {
        path: blog.function(path)
        for path in ("Api/Handler", "Subscriptions/Handler", welcome, "Thumbnails/Function")
    }
    calls = {path: function.lambda_service_calls() for path, function in functions.items()}

    def basics(path: str) -> list[str]:
        return LOG_STEPS + (TRACING_STEPS if functions[path].traced else [])

    dax = assembly.settings("my-blog").dax
    assert functions["Api/Handler"].in_vpc == dax  # to reach DAX
    assert not functions["Subscriptions/Handler"].in_vpc  # to reach KMS without an endpoint
    assert calls == {
        "Api/Handler": basics("Api/Handler") + (VPC_STEPS if dax else []),
        "Subscriptions/Handler": basics("Subscriptions/Handler"),
        welcome: basics(welcome)
        + STREAM_STEPS
        + ["sqs:SendMessage (event source mapping on-failure destination)"],
        "Thumbnails/Function": basics("Thumbnails/Function")
        + ["sqs:SendMessage (dead-letter target)"],
    }


# -- one grant less: the path that needs it fails with AccessDenied --------------------------------

WELCOME = "Subscriptions/WelcomeEmail/Function"
SUBSCRIPTIONS = "Subscriptions/Handler"


def subscribe(blog, email: str = "reader@example.com") -> dict:
    return blog.function(SUBSCRIPTIONS).invoke(
        via_cloudfront(blog, "POST", "/api/subscribers", body={"email": email})
    )


def test_without_update_item_the_welcome_function_claims_nobody_and_sends_nothing(
    sender_assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(sender_assembly, STACK, WELCOME, "dynamodb:UpdateItem")
    assert subscribe(blog)["statusCode"] == 202
    welcome = blog.function(WELCOME)
    mailed = attempt(welcome.invoke, {"Records": delivered(blog, welcome)})
    assert mailed.failed and mailed.refused_actions == {"dynamodb:UpdateItem"}
    assert emails() == []


def test_without_send_email_the_claim_is_released_for_the_retry(
    sender_assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(sender_assembly, STACK, WELCOME, "ses:SendEmail")
    subscribe(blog)
    welcome = blog.function(WELCOME)
    mailed = attempt(welcome.invoke, {"Records": delivered(blog, welcome)})
    assert mailed.failed and mailed.refused_actions == {"ses:SendEmail"}
    assert "confirmationFor" not in subscriber(blog, "reader@example.com") and emails() == []


def test_without_generate_mac_no_link_is_signed_and_nothing_is_claimed_or_sent(
    sender_assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(sender_assembly, STACK, WELCOME, "kms:GenerateMac")
    subscribe(blog)
    welcome = blog.function(WELCOME)
    mailed = attempt(welcome.invoke, {"Records": delivered(blog, welcome)})
    assert mailed.failed and mailed.refused_actions == {"kms:GenerateMac"}
    assert "confirmationFor" not in subscriber(blog, "reader@example.com") and emails() == []


def test_without_verify_mac_no_link_is_accepted_and_nothing_changes(
    sender_assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(sender_assembly, STACK, SUBSCRIPTIONS, "kms:VerifyMac")
    subscribe(blog)
    welcome = blog.function(WELCOME)
    welcome.invoke({"Records": delivered(blog, welcome)})
    (mail,) = emails()
    confirm = via_cloudfront(
        blog, "POST", "/api/subscribers/confirm", body={"token": link(mail, "confirm")}
    )
    confirmed = attempt(blog.function(SUBSCRIPTIONS).invoke, confirm)
    assert confirmed.failed and confirmed.refused_actions == {"kms:VerifyMac"}
    assert subscriber(blog, "reader@example.com")["status"] == "pending"


@pytest.mark.parametrize("action", ["dynamodb:UpdateItem", "dynamodb:PutItem"])
def test_without_its_table_grant_nobody_can_subscribe(
    sender_assembly, stack_without_grant, dax_stand_in, action
):
    """UpdateItem counts the request (first), PutItem stores the pending address."""
    blog = stack_without_grant(sender_assembly, STACK, SUBSCRIPTIONS, action)
    answer = attempt(subscribe, blog)
    assert answer.failed and answer.refused_actions == {action}
    assert subscriber(blog, "reader@example.com") is None


def test_without_the_table_key_grant_prod_keeps_nobody(
    sender_assembly, stack_without_grant, dax_stand_in
):
    """Prod's subscriber table has a customer-managed key, which DynamoDB uses with the caller's
    rights: without kms:Decrypt on it the subscriptions function can neither count nor store."""
    if not sender_assembly.stage_settings.keep_data:
        pytest.skip("dev's subscriber table uses DynamoDB's own key")
    blog = stack_without_grant(sender_assembly, STACK, SUBSCRIPTIONS, "kms:Decrypt")
    answer = attempt(subscribe, blog)
    assert answer.failed and answer.refused_actions == {"kms:Decrypt"}
    assert subscriber(blog, "reader@example.com") is None


def test_without_delete_item_the_unsubscribe_link_forgets_nobody(
    sender_assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(sender_assembly, STACK, SUBSCRIPTIONS, "dynamodb:DeleteItem")
    subscribe(blog)
    welcome = blog.function(WELCOME)
    welcome.invoke({"Records": delivered(blog, welcome)})
    (mail,) = emails()
    forget = via_cloudfront(
        blog, "POST", "/api/subscribers/unsubscribe", body={"token": link(mail, "unsubscribe")}
    )
    answer = attempt(blog.function(SUBSCRIPTIONS).invoke, forget)
    assert answer.failed and answer.refused_actions == {"dynamodb:DeleteItem"}
    assert subscriber(blog, "reader@example.com") is not None


def test_without_query_on_the_index_the_posts_cannot_be_listed(
    assembly, stack_without_grant, dax_stand_in
):
    """Without DAX the API queries the table's index directly; with DAX it asks DAX, which
    needs dax:Query."""
    action = "dax:Query" if assembly.settings("my-blog").dax else "dynamodb:Query"
    blog = stack_without_grant(assembly, STACK, "Api/Handler", action)
    api = blog.function("Api/Handler")
    created = api.invoke(
        via_cloudfront(blog, "POST", "/api/posts", body={"title": "T", "body": "b"}, author=AUTHOR)
    )
    assert created["statusCode"] == 201  # writes and reads by key still work
    listed = attempt(api.invoke, via_cloudfront(blog, "GET", "/api/posts"))
    assert listed.failed and listed.refused_actions == {action}


def test_without_put_object_under_the_prefix_the_presigned_upload_is_refused(
    assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(assembly, STACK, "Api/Handler", "s3:PutObject")
    api = blog.function("Api/Handler")
    upload = json_body(
        api.invoke(
            via_cloudfront(
                blog, "POST", "/api/uploads", body={"contentType": "image/jpeg"}, author=AUTHOR
            )
        )
    )
    uploaded = attempt(
        upload_as_signer, api, api.environment["MEDIA_BUCKET"], upload["key"], jpeg_photo(64, 48)
    )
    assert uploaded.failed and uploaded.refused_actions == {"s3:PutObject"}


def test_without_generate_data_key_the_prod_upload_is_refused(
    assembly, stack_without_grant, dax_stand_in
):
    """Prod's media bucket is SSE-KMS with the stack's key: S3 makes the upload's data key with
    the signer's rights, so the API's role needs kms:GenerateDataKey on that key."""
    if not assembly.stage_settings.keep_data:
        pytest.skip("dev's media bucket is SSE-S3: no key to grant")
    blog = stack_without_grant(assembly, STACK, "Api/Handler", "kms:GenerateDataKey")
    api = blog.function("Api/Handler")
    upload = json_body(
        api.invoke(
            via_cloudfront(
                blog, "POST", "/api/uploads", body={"contentType": "image/jpeg"}, author=AUTHOR
            )
        )
    )
    uploaded = attempt(
        upload_as_signer, api, api.environment["MEDIA_BUCKET"], upload["key"], jpeg_photo(64, 48)
    )
    assert uploaded.failed and uploaded.refused_actions == {"kms:GenerateDataKey"}


@pytest.mark.parametrize("action", ["kms:Decrypt", "kms:GenerateDataKey"])
def test_without_its_key_grant_the_prod_thumbnail_is_not_made(
    assembly, stack_without_grant, action
):
    """Reading the upload decrypts and writing the thumbnail makes a data key, with the
    function's rights, on prod's media key."""
    if not assembly.stage_settings.keep_data:
        pytest.skip("dev's media bucket is SSE-S3: no key to grant")
    blog = stack_without_grant(assembly, STACK, "Thumbnails/Function", action)
    thumbs = blog.function("Thumbnails/Function")
    bucket, key = (
        thumbs.environment["THUMBNAIL_BUCKET"],
        thumbs.environment["UPLOAD_PREFIX"] + "a.jpg",
    )
    boto3.client("s3", region_name=blog.region).put_object(
        Bucket=bucket, Key=key, Body=jpeg_photo(320, 240)
    )
    made = attempt(thumbs.invoke, s3_event(bucket, key))
    assert made.refused_actions == {action}
    listed = boto3.client("s3", region_name=blog.region).list_objects_v2(
        Bucket=bucket, Prefix=thumbs.environment["THUMBNAIL_PREFIX"]
    )
    assert listed.get("KeyCount", 0) == 0


def test_without_publish_the_thumbnail_event_fails_for_lambda_to_retry(
    assembly, stack_without_grant
):
    blog = stack_without_grant(assembly, STACK, "Thumbnails/Function", "sns:Publish")
    thumbs = blog.function("Thumbnails/Function")
    bucket, key = (
        thumbs.environment["THUMBNAIL_BUCKET"],
        thumbs.environment["UPLOAD_PREFIX"] + "a.jpg",
    )
    boto3.client("s3", region_name=blog.region).put_object(
        Bucket=bucket, Key=key, Body=jpeg_photo(320, 240)
    )
    made = attempt(thumbs.invoke, s3_event(bucket, key))
    assert made.error is not None  # raised: Lambda retries the event, then dead-letters it
    assert made.refused_actions == {"sns:Publish"}


def test_prod_break_glass_dax_endpoint_off_reaches_dynamodb_with_the_functions_own_grants(
    synth, local_stack, dax_stand_in
):
    """DAX_ENDPOINT="" on the deployed API (the layer's documented switch for an unhealthy
    cluster) sends every call to DynamoDB directly: the role's dynamodb:* grants are for this."""
    with_dax = [a for a in (synth("prod"), synth("dev")) if a.settings("my-blog").dax]
    if not with_dax:
        pytest.skip("dax is off in every stage's settings")
    blog = local_stack(with_dax[0], STACK)
    api = blog.function("Api/Handler")
    assert api.environment["DAX_ENDPOINT"].startswith("daxs://")
    api.environment["DAX_ENDPOINT"] = ""
    assert (
        api.invoke(
            via_cloudfront(
                blog, "POST", "/api/posts", body={"title": "Hi", "body": "b"}, author=AUTHOR
            )
        )["statusCode"]
        == 201
    )
    listed = json_body(api.invoke(via_cloudfront(blog, "GET", "/api/posts")))
    assert [p["slug"] for p in listed["posts"]] == ["hi"]
    assert json_body(api.invoke(via_cloudfront(blog, "GET", "/api/posts/hi")))["title"] == "Hi"
    assert DaxStandIn.made == []


def test_the_welcome_function_may_send_only_from_the_address_it_is_given(blog_with_sender):
    """What moto cannot check (it treats conditions as met): SendEmail is allowed only with the
    function's own SENDER as the From address, on that identity."""
    welcome = blog_with_sender.function(WELCOME)
    (send,) = [
        s
        for s in resolved_statements(
            blog_with_sender, blog_with_sender.names[welcome.role_logical_id]
        )
        if any(a.startswith("ses:") for a in as_list(s["Action"]))
    ]
    sender = welcome.environment["SENDER"]
    assert send["Action"] == "ses:SendEmail"
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": sender}}
    assert send["Resource"].endswith(f":identity/{sender}")


def test_only_the_mailer_may_sign_links_and_the_public_api_only_check_them(blog_with_sender):
    """KMS HMAC: the key never leaves KMS, and the roles split the two halves of it."""
    blog = blog_with_sender
    key = blog.function(WELCOME).environment["TOKEN_KEY_ID"]

    def kms_actions(path: str) -> set[str]:
        role = blog.names[blog.function(path).role_logical_id]
        return {
            a
            for s in resolved_statements(blog, role)
            if s["Resource"] == key or key in as_list(s["Resource"])
            for a in as_list(s["Action"])
        }

    assert kms_actions(WELCOME) == {"kms:GenerateMac"}
    assert kms_actions(SUBSCRIPTIONS) == {"kms:VerifyMac"}
    assert kms_actions("Api/Handler") == set()
