"""house/operations.py: every failure destination and stream mapping alarms, to one topic."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

from house.operations import watch_failures
from tests.support.template import only, resources


def function(stack, id: str, **kwargs) -> lambda_.Function:
    return lambda_.Function(
        stack,
        id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        **kwargs,
    )


def every_kind_of_failure(stack: cdk.Stack) -> None:
    """One failure destination of each kind, one stream mapping, and queues (Work, Inbox)
    that are nobody's dead-letter queue."""
    redrive = sqs.Queue(stack, "RedriveDeadLetters")
    sqs.Queue(
        stack, "Work", dead_letter_queue=sqs.DeadLetterQueue(queue=redrive, max_receive_count=3)
    )
    function(stack, "Async", dead_letter_queue=sqs.Queue(stack, "AsyncDeadLetters"))
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    function(stack, "Consumer").add_event_source(
        sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            max_record_age=cdk.Duration.hours(6),
            on_failure=sources.SqsDlq(sqs.Queue(stack, "FailedRecords")),
        )
    )
    rule = events.Rule(stack, "Every", schedule=events.Schedule.rate(cdk.Duration.hours(1)))
    rule.add_target(
        targets.LambdaFunction(
            function(stack, "Scheduled", dead_letter_queue=sqs.Queue(stack, "ScheduledDlq")),
            dead_letter_queue=sqs.Queue(stack, "RuleDeadLetters"),
        )
    )
    sns.Topic(stack, "News").add_subscription(
        subscriptions.SqsSubscription(
            sqs.Queue(stack, "Inbox"), dead_letter_queue=sqs.Queue(stack, "InboxDeadLetters")
        )
    )
    watch_failures(stack, keep_data=True, email=None)


def queue_of(template: dict, alarm: dict) -> str:
    (dimension,) = alarm["Properties"]["Dimensions"]
    return dimension["Value"]["Fn::GetAtt"][0]


def test_every_failure_destination_alarms_on_its_first_message(synthesized):
    template = synthesized(every_kind_of_failure)
    queues = resources(template, "AWS::SQS::Queue")
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    waiting = [
        a for a in alarms if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    ]
    watched = {re.sub(r"[0-9A-F]{8}$", "", queue_of(template, a)) for a in waiting}
    assert watched == {
        "RedriveDeadLetters",
        "AsyncDeadLetters",
        "FailedRecords",
        "ScheduledDlq",
        "RuleDeadLetters",
        "InboxDeadLetters",
    }
    for alarm in waiting:
        props = alarm["Properties"]
        assert (props["Threshold"], props["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )
        assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == (
            "Maximum",
            60,
            1,
        )
        assert props["TreatMissingData"] == "notBreaching"
    # Each dead-letter queue says it is one (CT.SQS.PR.1).
    for logical_id, queue in queues.items():
        marked = queue.get("Properties", {}).get("RedriveAllowPolicy") == {
            "redrivePermission": "allowAll"
        }
        assert marked == any(queue_of(template, a) == logical_id for a in waiting), logical_id


def test_every_alarm_notifies_the_one_operations_topic(synthesized):
    template = synthesized(every_kind_of_failure)
    topic_id, _ = next(
        (k, t)
        for k, t in resources(template, "AWS::SNS::Topic").items()
        if k.startswith("Operations")
    )
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_an_alarm_the_stack_made_without_an_action_notifies_the_topic_too(synthesized):
    """A blueprint's own alarms (L2 or L1) are routed; one with an action of its own is not."""
    metric = cloudwatch.Metric(namespace="Shop", metric_name="Errors", statistic="Sum")

    def own_alarms(stack):
        metric.create_alarm(stack, "Silent", threshold=1, evaluation_periods=1)
        cloudwatch.CfnAlarm(
            stack,
            "SilentL1",
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=1,
            threshold=1,
            namespace="Shop",
            metric_name="Errors",
            statistic="Sum",
            period=60,
        )
        paging = sns.Topic(stack, "Paging")
        metric.create_alarm(stack, "Paged", threshold=1, evaluation_periods=1).add_alarm_action(
            cloudwatch_actions.SnsAction(paging)
        )
        watch_failures(stack, keep_data=False, email=None)

    template = synthesized(own_alarms)
    topics = resources(template, "AWS::SNS::Topic")
    (operations,) = [k for k in topics if k.startswith("Operations")]
    (paging,) = [k for k in topics if k.startswith("Paging")]
    actions = {
        k: a["Properties"]["AlarmActions"]
        for k, a in resources(template, "AWS::CloudWatch::Alarm").items()
    }
    assert actions == {
        next(k for k in actions if k.startswith("Silent") and "L1" not in k): [{"Ref": operations}],
        "SilentL1": [{"Ref": operations}],
        next(k for k in actions if k.startswith("Paged")): [{"Ref": paging}],
    }


def test_a_stream_mapping_alarms_on_a_quarter_of_its_record_age(synthesized):
    template = synthesized(every_kind_of_failure)
    (alarm,) = [
        a
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "IteratorAge"
    ]
    _, mapping = only(template, "AWS::Lambda::EventSourceMapping")
    props = alarm["Properties"]
    assert props["Dimensions"] == [
        {"Name": "FunctionName", "Value": mapping["Properties"]["FunctionName"]}
    ]
    assert props["Threshold"] == 6 * 3600 * 1000 / 4  # milliseconds
    assert (props["Statistic"], props["EvaluationPeriods"]) == ("Maximum", 5)


def test_where_data_is_kept_the_topic_has_a_key_cloudwatch_may_use(synthesized):
    template = synthesized(every_kind_of_failure)
    topic_id, topic = (
        only(template, "AWS::SNS::Topic")
        if False
        else next(
            (k, t)
            for k, t in resources(template, "AWS::SNS::Topic").items()
            if k.startswith("Operations")
        )
    )
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = resources(template, "AWS::KMS::Key")[key_id]
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [
        s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    (policy,) = [
        p
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    publish = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert publish and publish[0]["Action"] == "sns:Publish"
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_a_disposable_stage_does_without_the_key(synthesized):
    def dev(stack):
        function(stack, "Async", dead_letter_queue=sqs.Queue(stack, "AsyncDeadLetters"))
        watch_failures(stack, keep_data=False, email=None)

    template = synthesized(dev)
    _, topic = only(template, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" not in topic["Properties"]
    assert not resources(template, "AWS::KMS::Key")


def test_the_stage_email_is_subscribed_and_its_undelivered_mail_alarms_too(synthesized):
    def with_email(stack):
        function(stack, "Async", dead_letter_queue=sqs.Queue(stack, "AsyncDeadLetters"))
        watch_failures(stack, keep_data=True, email="ops@example.com")

    template = synthesized(with_email)
    _, subscription = only(template, "AWS::SNS::Subscription")
    props = subscription["Properties"]
    assert (props["Protocol"], props["Endpoint"]) == ("email", "ops@example.com")
    undelivered = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    assert any(queue_of(template, a) == undelivered for a in alarms)


def test_a_stack_with_nothing_to_watch_gets_no_topic(synthesized):
    def quiet(stack):
        sqs.Queue(stack, "Work")
        watch_failures(stack, keep_data=True, email="ops@example.com")

    template = synthesized(quiet)
    assert not resources(template, "AWS::SNS::Topic")
    assert not resources(template, "AWS::CloudWatch::Alarm")


def test_the_pictures_leave_out_the_construct_ids_these_mechanisms_use():
    """docgen reads JSON only and names the ids itself; they must stay the house's."""
    from docgen import diagram
    from house import backup, operations

    assert (diagram.OPERATIONS_ID, diagram.BACKUP_ID) == (
        operations.OPERATIONS_ID,
        backup.BACKUP_ID,
    )


def test_every_dead_letter_queue_of_every_stack_has_exactly_one_alarm(every_assembly):
    """One message, one page (counting alarms that notify a topic; a scaling alarm on a queue's
    depth acts instead): a dashboard (patterns/observability) graphs the queues the house
    already alarms on, it does not alarm on them a second time."""
    for stack_id in every_assembly.stacks:
        template = every_assembly.template(stack_id)
        alarms_per_queue: dict[str, list[str]] = {}
        for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
            props = alarm["Properties"]
            if props.get("MetricName") != "ApproximateNumberOfMessagesVisible":
                continue
            topics = resources(template, "AWS::SNS::Topic")
            if not any(
                isinstance(action, dict) and action.get("Ref") in topics
                for action in props.get("AlarmActions", [])
            ):
                continue  # a scaling alarm on a work queue's depth acts, it does not page
            alarms_per_queue.setdefault(queue_of(template, alarm), []).append(logical_id)
        twice = {queue: ids for queue, ids in alarms_per_queue.items() if len(ids) > 1}
        assert not twice, f"{stack_id}: queues watched by more than one alarm: {twice}"
