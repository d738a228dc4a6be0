"""ServiceDashboard: one CloudWatch dashboard per service and the alarms that say it is unwell.

    api (REST or HTTP)  -> 5XX count, p99 latency           alarm: any 5XX; p99 > threshold
    functions           -> invocations, errors, throttles, p99 duration
    dead-letter queues  -> messages waiting                 (alarm: house/operations.py's,
                                                             on the first message)
    streams (Kinesis or DynamoDB mappings)
                        -> iterator age (max)               alarm: older than a threshold
    queues              -> depth, age of the oldest message

    container service   -> CPU and memory utilisation (graphs only: the service's target
                           tracking acts on them)

Usage:
    board = ServiceDashboard(self, "Dashboard", service="orders", latency_threshold=Duration...)
    board.add_rest_api(api.api, stage_name); board.add_functions(fn, ...)
    board.add_dead_letter_queues(dlq, ...); board.add_stream_consumers(fn, ...)
    board.alarms  # every alarm made

The alarms have no actions of their own: where they notify is a stack-wide decision, which
house/operations.py makes for every stack app.py builds (each alarm without an action notifies
the stack's operations topic). `dashboard=False` makes the alarms only: a dashboard bills per
dashboard-month beyond the free ones, an alarm per alarm-month.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from house.names import physical_name

PERIOD = cdk.Duration.minutes(1)
# CloudWatch dashboard names: up to 255 of A-Za-z0-9-_ (CloudWatch API reference).
DASHBOARD_NAME_MAX = 255


class ServiceDashboard(Construct):
    """One CloudWatch dashboard per service, and the alarms that say it is unwell.

    Args:
        `service`: the service's name: the dashboard's name (with the stack's), its title and the
            start of every alarm description. Required.
        `latency_threshold`: the API's p99 latency at which its latency alarm fires
            (`add_rest_api`, `add_http_api`). Default: 2 seconds.
        `iterator_age_threshold`: the iterator age at which a stream consumer's alarm fires
            (`add_stream_consumers`). Default: 5 minutes.
        `dashboard`: make the CloudWatch dashboard (billed per dashboard-month). Default:
            True; False makes the alarms only.

    Attributes: dashboard (None with `dashboard=False`), alarms (list).
    """

    dashboard: cloudwatch.Dashboard | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        latency_threshold: cdk.Duration = cdk.Duration.seconds(2),
        iterator_age_threshold: cdk.Duration = cdk.Duration.minutes(5),
        dashboard: bool = True,
    ) -> None:
        super().__init__(scope, id)
        self.service = service
        self.latency_threshold = latency_threshold
        self.iterator_age_threshold = iterator_age_threshold
        self.alarms: list[cloudwatch.Alarm] = []
        self.dashboard = None
        if dashboard:
            self.dashboard = cloudwatch.Dashboard(
                self,
                "Dashboard",
                dashboard_name=physical_name(self, service, max_length=DASHBOARD_NAME_MAX),
                default_interval=cdk.Duration.hours(3),
            )
            self._widgets(cloudwatch.TextWidget(markdown=f"# {service}", width=24, height=1))

    def _widgets(self, *widgets: cloudwatch.IWidget) -> None:
        if self.dashboard is not None:
            self.dashboard.add_widgets(*widgets)

    def _alarm(self, id: str, metric: cloudwatch.IMetric, threshold: float, what: str) -> None:
        alarm = metric.create_alarm(
            self,
            id,
            alarm_description=f"{self.service}: {what}",
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms.append(alarm)

    def add_rest_api(self, api: apigw.IRestApi, stage_name: str, name: str) -> None:
        errors = cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions_map={"ApiName": name, "Stage": stage_name},
            statistic="Sum",
            period=PERIOD,
        )
        latency = cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name="Latency",
            dimensions_map={"ApiName": name, "Stage": stage_name},
            statistic="p99",
            period=PERIOD,
        )
        self._api(errors, latency, "REST API")

    def add_http_api(self, api: apigwv2.IHttpApi) -> None:
        errors = api.metric_server_error(period=PERIOD, statistic="Sum")
        latency = api.metric_latency(period=PERIOD, statistic="p99")
        self._api(errors, latency, "HTTP API")

    def _api(self, errors: cloudwatch.IMetric, latency: cloudwatch.IMetric, kind: str) -> None:
        self._alarm("Api5xx", errors, 1, f"the {kind} answered 5XX")
        self._alarm(
            "ApiLatencyP99",
            latency,
            self.latency_threshold.to_milliseconds(),
            f"the {kind}'s p99 latency reached {self.latency_threshold.to_milliseconds()} ms",
        )
        self._widgets(
            cloudwatch.GraphWidget(title=f"{kind} 5XX", left=[errors], width=12),
            cloudwatch.GraphWidget(title=f"{kind} p99 latency (ms)", left=[latency], width=12),
        )

    def add_functions(self, *functions: lambda_.IFunction) -> None:
        for function in functions:
            self._widgets(
                cloudwatch.GraphWidget(
                    title=f"{function.node.path.split('/')[-2]} invocations",
                    left=[
                        function.metric_invocations(period=PERIOD),
                        function.metric_errors(period=PERIOD),
                        function.metric_throttles(period=PERIOD),
                    ],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title=f"{function.node.path.split('/')[-2]} p99 duration (ms)",
                    left=[function.metric_duration(period=PERIOD, statistic="p99")],
                    width=12,
                ),
            )

    def add_queues(self, *queues: sqs.IQueue) -> None:
        self._widgets(
            cloudwatch.GraphWidget(
                title="work queues: messages waiting",
                left=[
                    q.metric_approximate_number_of_messages_visible(period=PERIOD) for q in queues
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="work queues: oldest message (s)",
                left=[q.metric_approximate_age_of_oldest_message(period=PERIOD) for q in queues],
                width=12,
            ),
        )

    def add_dead_letter_queues(self, *queues: sqs.IQueue) -> None:
        """Graphs only: house/operations.py already alarms on the first message of every
        dead-letter queue of the stack, to its operations topic; a second alarm here would page
        twice for one message."""
        metrics = [
            queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
            for queue in queues
        ]
        self._widgets(
            cloudwatch.GraphWidget(title="dead-letter queues: depth", left=metrics, width=24)
        )

    def add_stream_consumers(self, *functions: lambda_.IFunction) -> None:
        metrics = []
        for function in functions:
            index = sum(1 for alarm in self.alarms if alarm.node.id.startswith("IteratorAge"))
            age = function.metric(
                "IteratorAge", period=PERIOD, statistic="Maximum", unit=cloudwatch.Unit.MILLISECONDS
            )
            metrics.append(age)
            self._alarm(
                f"IteratorAge{index}",
                age,
                self.iterator_age_threshold.to_milliseconds(),
                f"{function.node.path} is {self.iterator_age_threshold.to_minutes()} min or more "
                "behind its stream",
            )
        self._widgets(
            cloudwatch.GraphWidget(
                title="stream consumers: iterator age (ms)", left=metrics, width=24
            )
        )

    def add_container_service(self, service: ecs.BaseService) -> None:
        self._widgets(
            cloudwatch.GraphWidget(
                title="tasks: CPU and memory utilisation (%)",
                left=[
                    service.metric_cpu_utilization(period=PERIOD),
                    service.metric_memory_utilization(period=PERIOD),
                ],
                width=24,
            )
        )
