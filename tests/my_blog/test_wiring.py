"""MyBlog wiring, dev and prod: each handler runs from its synthesized asset (with the layer the
template attaches), with the environment the template sets and as the execution role the template
gives it (moto enforcing that role's policies), against the table, buckets, queues, topic and SES
identity the template declares (created in moto by tests/support/wiring.py).

Paths driven end to end (issue 8):
- with the welcome email on (`sender_email` set, as `-c my-blog.sender_email=...` does; cdk.json
  leaves it off): subscribe through the API route -> the item lands in the template's table ->
  its record is read back from that table's stream (moto DynamoDB Streams), passed through the
  event source mapping's filter *from the template* -> the welcome function sends exactly one
  email through moto SES from the identity the template creates, even when the batch is
  delivered again; with it off, the subscriber is stored and nothing is sent;
- an author asks the API for an upload URL -> the photo lands at that key -> the bucket
  notification filter from the template selects it -> the thumbnail function writes the
  thumbnail where the distribution's `/thumbnails/*` behaviour and the bucket policy serve it.

Prod sets DAX_ENDPOINT to the cluster's discovery URL; DAX's wire protocol cannot run here, so
amazondax.AmazonDaxClient is replaced by a stand-in that records how the layer built it, checks
the function's dax:* grant on the cluster and answers from moto DynamoDB as the cluster's service
role (the same boto3 resource API the DAX client offers).

Lambda's own calls with each role (logs, X-Ray, VPC interfaces, reading the stream, the on-failure
queue, the dead-letter queue) are made as that role too, and the last tests remove one grant a
path needs and show that path failing with AccessDenied.
"""

from __future__ import annotations

import fnmatch
import json

import boto3
import pytest
from botocore.config import Config
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.my_blog.events import AUTHOR, api_event, jpeg_photo, json_body, s3_event
from tests.support.dax import DaxStandIn, dax_stand_in  # noqa: F401 (fixture)
from tests.support.eventbridge import event_matches
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


def table_name(blog) -> str:
    (table_id,) = blog.of_type("AWS::DynamoDB::GlobalTable")
    return blog.ref(table_id)


def stream_records(blog, consumer) -> list[dict]:
    """Every record on the table's stream so far, as Lambda would receive it: read the way the
    event source mapping reads it, with the consuming function's role."""
    table = boto3.client("dynamodb", region_name=blog.region).describe_table(
        TableName=table_name(blog)
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


def mapping_filter(blog, function_logical_id: str) -> dict:
    """The filter pattern of the event source mapping that feeds the function the table stream."""
    (mapping_id,) = [
        k
        for k, r in blog.of_type("AWS::Lambda::EventSourceMapping").items()
        if r["Properties"]["FunctionName"] == {"Ref": function_logical_id}
    ]
    mapping = blog.resources[mapping_id]["Properties"]
    (table_id,) = blog.of_type("AWS::DynamoDB::GlobalTable")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    (only,) = mapping["FilterCriteria"]["Filters"]
    return json.loads(only["Pattern"])


def emails() -> list:
    backends = ses_backends[DEFAULT_ACCOUNT_ID].values()
    return [message for backend in backends for message in backend.sent_messages]


def test_a_subscriber_gets_exactly_one_welcome_email(assembly, blog_with_sender):
    blog = blog_with_sender
    api = blog.function("Api/Handler")
    welcome = blog.function("WelcomeEmail/Function")
    assert api.environment["TABLE_NAME"] == welcome.environment["TABLE_NAME"] == table_name(blog)

    answer = api.invoke(api_event("POST", "/api/subscribers", body={"email": "Reader@Example.com"}))
    assert answer["statusCode"] == 202, answer
    # A post goes into the same table: its stream record must not reach the welcome function.
    post = api.invoke(
        api_event("POST", "/api/posts", body={"title": "Hi", "body": "x"}, author=AUTHOR)
    )
    assert post["statusCode"] == 201, post

    pattern = mapping_filter(blog, welcome.logical_id)
    records = stream_records(blog, welcome)
    assert len(records) == 2
    delivered = [r for r in records if event_matches(pattern, r)]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in delivered]
    assert keys == ["SUBSCRIBER#reader@example.com"]

    assert welcome.invoke({"Records": delivered}) == {"batchItemFailures": []}
    (email,) = emails()
    sender_id = blog.logical_id("SenderIdentity", "AWS::SES::EmailIdentity")
    identity = blog.properties(sender_id)["EmailIdentity"]
    assert email.source == welcome.environment["SENDER"] == identity
    assert email.destinations["ToAddresses"] == ["reader@example.com"]

    # The function's own welcomedAt update is a MODIFY: the filter keeps it away.
    later = stream_records(blog, welcome)[2:]
    assert [r["eventName"] for r in later] == ["MODIFY"]
    assert not any(event_matches(pattern, r) for r in later)
    # The mapping delivers the batch again (retry, bisect, duplicate): no second email.
    assert welcome.invoke({"Records": delivered}) == {"batchItemFailures": []}
    assert len(emails()) == 1

    cluster = list(blog.of_type("AWS::DAX::Cluster"))
    if assembly.settings("my-blog").dax:
        (cluster_id,) = cluster
        endpoint = blog.get_att(cluster_id, "ClusterDiscoveryEndpointURL")
        assert endpoint.startswith("daxs://") and api.environment["DAX_ENDPOINT"] == endpoint
        assert DaxStandIn.made == [
            {"resource": {"endpoint_url": endpoint, "region_name": blog.region}}
        ]
    else:
        assert cluster == [] and "DAX_ENDPOINT" not in api.environment
        assert DaxStandIn.made == []


def test_without_a_sender_subscribers_are_kept_and_nobody_is_emailed(assembly, blog):
    """Without sender_email: the subscribe route still stores the address; nothing reads the
    stream and no SES identity exists (the welcome email is off until sender_email is set)."""
    if assembly.settings("my-blog").sender_email is not None:
        pytest.skip("this stage sets sender_email")
    api = blog.function("Api/Handler")
    answer = api.invoke(api_event("POST", "/api/subscribers", body={"email": "reader@example.com"}))
    assert answer["statusCode"] == 202, answer
    item = (
        boto3.resource("dynamodb", region_name=blog.region)
        .Table(table_name(blog))
        .get_item(Key={"pk": "SUBSCRIBER#reader@example.com", "sk": "SUBSCRIBER"})
        .get("Item")
    )
    assert item is not None and "welcomedAt" not in item
    assert not list(blog.of_type("AWS::Lambda::EventSourceMapping"))
    assert not list(blog.of_type("AWS::SES::EmailIdentity"))
    assert emails() == []


def test_posts_list_through_the_index_the_template_declares(blog):
    api = blog.function("Api/Handler")
    (table_id,) = blog.of_type("AWS::DynamoDB::GlobalTable")
    indexes = [i["IndexName"] for i in blog.properties(table_id)["GlobalSecondaryIndexes"]]
    assert api.environment["POSTS_INDEX"] in indexes
    for title in ("First post", "Second post"):
        created = api.invoke(
            api_event("POST", "/api/posts", body={"title": title, "body": "b"}, author=AUTHOR)
        )
        assert created["statusCode"] == 201, created
    listed = json_body(api.invoke(api_event("GET", "/api/posts", query={"limit": "5"})))
    assert sorted(p["slug"] for p in listed["posts"]) == ["first-post", "second-post"]
    got = api.invoke(api_event("GET", "/api/posts/second-post"))
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


def notified_functions(notifications: dict, key: str) -> list[str]:
    """ARNs of the functions S3 invokes for a new object `key`, per the template's filters."""

    def matches(rule: dict) -> bool:
        if rule["Name"] == "prefix":
            return key.startswith(rule["Value"])
        return key.endswith(rule["Value"])

    configurations = notifications["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    return [
        c["LambdaFunctionArn"]
        for c in configurations
        if all(matches(r) for r in c["Filter"]["Key"]["FilterRules"])
    ]


def upload_as_signer(api, bucket: str, key: str, body: bytes) -> dict:
    with api.as_role() as role:
        return role.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def test_an_uploaded_photo_becomes_a_thumbnail_where_cloudfront_serves_it(blog):
    api = blog.function("Api/Handler")
    thumbs = blog.function("Thumbnails/Function")
    answer = api.invoke(
        api_event("POST", "/api/uploads", body={"contentType": "image/jpeg"}, author=AUTHOR)
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

    # S3 invokes the function only if a notification filter of the template matches the key.
    (notifications_id,) = blog.of_type("Custom::S3BucketNotifications")
    notifications = blog.properties(notifications_id)
    assert notifications["BucketName"] == bucket
    targets = notified_functions(notifications, key)
    assert targets == [blog.get_att(thumbs.logical_id, "Arn")]
    assert thumbs.invoke(s3_event(bucket, key, version=version)) == {
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
    # A thumbnail written back into the bucket does not match any filter: no recursion.
    assert notified_functions(notifications, served_key) == []

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
    functions = {
        path: blog.function(path)
        for path in ("Api/Handler", "WelcomeEmail/Function", "Thumbnails/Function")
    }
    calls = {path: function.lambda_service_calls() for path, function in functions.items()}

    def basics(path: str) -> list[str]:
        return LOG_STEPS + (TRACING_STEPS if functions[path].traced else [])

    dax = assembly.settings("my-blog").dax
    assert functions["Api/Handler"].in_vpc == dax  # to reach DAX
    assert calls == {
        "Api/Handler": basics("Api/Handler") + (VPC_STEPS if dax else []),
        "WelcomeEmail/Function": basics("WelcomeEmail/Function")
        + STREAM_STEPS
        + ["sqs:SendMessage (event source mapping on-failure destination)"],
        "Thumbnails/Function": basics("Thumbnails/Function")
        + ["sqs:SendMessage (dead-letter target)"],
    }


# -- one grant less: the path that needs it fails with AccessDenied --------------------------------


def test_without_update_item_the_welcome_function_claims_nobody_and_sends_nothing(
    sender_assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(
        sender_assembly, STACK, "WelcomeEmail/Function", "dynamodb:UpdateItem"
    )
    api, welcome = blog.function("Api/Handler"), blog.function("WelcomeEmail/Function")
    assert (
        api.invoke(api_event("POST", "/api/subscribers", body={"email": "reader@example.com"}))[
            "statusCode"
        ]
        == 202
    )
    (record,) = stream_records(blog, welcome)
    welcomed = attempt(welcome.invoke, {"Records": [record]})
    assert welcomed.failed and welcomed.refused_actions == {"dynamodb:UpdateItem"}
    assert emails() == []


def test_without_send_email_the_welcome_claim_is_released_for_the_retry(
    sender_assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(sender_assembly, STACK, "WelcomeEmail/Function", "ses:SendEmail")
    api, welcome = blog.function("Api/Handler"), blog.function("WelcomeEmail/Function")
    api.invoke(api_event("POST", "/api/subscribers", body={"email": "reader@example.com"}))
    (record,) = stream_records(blog, welcome)
    welcomed = attempt(welcome.invoke, {"Records": [record]})
    assert welcomed.failed and welcomed.refused_actions == {"ses:SendEmail"}
    item = (
        boto3.resource("dynamodb", region_name=blog.region)
        .Table(table_name(blog))
        .get_item(Key={"pk": "SUBSCRIBER#reader@example.com", "sk": "SUBSCRIBER"})["Item"]
    )
    assert "welcomedAt" not in item and emails() == []


def test_without_query_on_the_index_the_posts_cannot_be_listed(
    assembly, stack_without_grant, dax_stand_in
):
    """Without DAX the API queries the table's index directly; with DAX it asks DAX, which
    needs dax:Query."""
    action = "dax:Query" if assembly.settings("my-blog").dax else "dynamodb:Query"
    blog = stack_without_grant(assembly, STACK, "Api/Handler", action)
    api = blog.function("Api/Handler")
    created = api.invoke(
        api_event("POST", "/api/posts", body={"title": "T", "body": "b"}, author=AUTHOR)
    )
    assert created["statusCode"] == 201  # writes and reads by key still work
    listed = attempt(api.invoke, api_event("GET", "/api/posts"))
    assert listed.failed and listed.refused_actions == {action}


def test_without_put_object_under_the_prefix_the_presigned_upload_is_refused(
    assembly, stack_without_grant, dax_stand_in
):
    blog = stack_without_grant(assembly, STACK, "Api/Handler", "s3:PutObject")
    api = blog.function("Api/Handler")
    upload = json_body(
        api.invoke(
            api_event("POST", "/api/uploads", body={"contentType": "image/jpeg"}, author=AUTHOR)
        )
    )
    uploaded = attempt(
        upload_as_signer, api, api.environment["MEDIA_BUCKET"], upload["key"], jpeg_photo(64, 48)
    )
    assert uploaded.failed and uploaded.refused_actions == {"s3:PutObject"}


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
            api_event("POST", "/api/posts", body={"title": "Hi", "body": "b"}, author=AUTHOR)
        )["statusCode"]
        == 201
    )
    assert [p["slug"] for p in json_body(api.invoke(api_event("GET", "/api/posts")))["posts"]] == [
        "hi"
    ]
    assert json_body(api.invoke(api_event("GET", "/api/posts/hi")))["title"] == "Hi"
    assert DaxStandIn.made == []


def test_the_welcome_function_may_send_only_from_the_address_it_is_given(blog_with_sender):
    """What moto cannot check (it treats conditions as met): SendEmail is allowed only with the
    function's own SENDER as the From address, on that identity."""
    welcome = blog_with_sender.function("WelcomeEmail/Function")
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
