"""Microservices' settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheap
(dev) profile; docs/microservices.md lists every setting with the shipped dev and prod values."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from house.settings import Settings, require, require_domain_in_prod, require_in_zone
from house.types import DomainName, HostedZoneId, HostedZoneName
from patterns.containers.cluster import FARGATE_SIZES, fargate_size_problem

FargateCpu = Literal[tuple(FARGATE_SIZES)]


class MicroservicesSettings(Settings):
    # -- the public front door (Orders' REST API) -------------------------------------------------
    api_throttle_rate: int = Field(
        20, ge=1, le=10_000, description="Requests per second the Orders API stage accepts."
    )
    api_throttle_burst: int = Field(
        40, ge=1, le=10_000, description="Requests the Orders API stage accepts in a burst."
    )
    api_quota_per_day: int = Field(
        10_000,
        ge=1,
        le=100_000_000,
        description="Requests per day each API key of the usage plan may make (the storefront's "
        "key is the one shipped).",
    )
    # -- per-service scaling and protection -------------------------------------------------------
    reserved_concurrency: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Concurrent executions reserved for (and capping) each service's functions; "
        "null: none. AWS refuses a reservation that leaves the account fewer than 100 unreserved "
        "(all of them where the account's limit is 100 or less, as in many new accounts): "
        "`make preflight` checks the account's headroom.",
    )
    consumer_max_concurrency: int = Field(
        2,
        ge=2,
        le=1000,
        description="Most concurrent invocations each SQS event source starts (its maximum "
        "concurrency); the rest waits in the queue.",
    )
    idempotency_hours: int = Field(
        24,
        ge=1,
        le=720,
        description="How long a consumer remembers a message it processed (a redelivery within "
        "it is answered from memory); the records expire by DynamoDB TTL.",
    )
    # -- the asynchronous paths -------------------------------------------------------------------
    event_archive_days: int = Field(
        7,
        ge=1,
        le=3650,
        description="Days the event bus's archive keeps every event for replay. Archived events "
        "bill per GB-month.",
    )
    kinesis: bool = Field(
        False,
        description="The order-activity Kinesis stream and its consumer (per-SKU demand). A "
        "stream bills by the hour whether or not it is used.",
    )
    kinesis_shards: int | None = Field(
        1,
        ge=1,
        le=500,
        description="Shards of the provisioned stream (each billed per hour); null: on-demand "
        "capacity (billed per stream-hour, more than one shard, plus per GB).",
    )
    stream_retry_attempts: int = Field(
        3,
        ge=0,
        le=10_000,
        description="Retries of a failing Kinesis batch (bisected each time) before its records "
        "go to the on-failure queue.",
    )
    # -- the container service (Inventory's stock API) --------------------------------------------
    container_service: bool = Field(
        False,
        description="Inventory's stock API as a Fargate service behind an internal ALB (its own "
        "stack, MicroservicesStock), reached by Orders through an HTTP API with IAM (SigV4) auth "
        "and a VPC link; Orders then checks stock before it accepts an order. Its load balancer "
        "and tasks bill by the hour.",
    )
    container_subnets: Literal["public", "private"] = Field(
        "public",
        description="Where the stock-API tasks run. public: public subnets, a public IPv4 address "
        "per task (billed per hour) and a security group that admits only the load balancer; "
        "private: isolated subnets that reach ECR and CloudWatch Logs through interface "
        "endpoints (billed per endpoint and AZ-hour). Neither has a NAT gateway.",
    )
    container_insights: bool = Field(
        False,
        description="ECS Container Insights on the stock API's cluster (task and service CPU, "
        "memory, network metrics; billed as custom metrics per month).",
    )
    container_cpu: FargateCpu = Field(
        256, description="CPU units of a stock-API task (1024 = 1 vCPU). Billed per vCPU-hour."
    )
    container_memory_mib: int = Field(
        512,
        description="Memory of a stock-API task, in MiB; what Fargate accepts depends on "
        "container_cpu. Billed per GB-hour.",
    )
    container_min_tasks: int = Field(1, ge=1, le=100, description="Stock-API tasks always running.")
    container_max_tasks: int = Field(
        2,
        ge=1,
        le=100,
        description="Most stock-API tasks target tracking (CPU, memory, requests per task) "
        "may run.",
    )
    stock_api_domain_name: DomainName | None = Field(
        None,
        description="The name in the certificate of the stock API's internal load balancer (in a "
        "Route 53 zone you own, with hosted_zone_id and hosted_zone_name): it then listens on "
        "HTTPS only (TLS 1.2+) and the HTTP API's VPC link integration verifies this name, so "
        "the hop inside the VPC is encrypted too. No DNS record is made: the VPC link reaches "
        "the listener itself. null = plain HTTP from the VPC link to the load balancer (prod "
        "refuses that with container_service unless allow_plain_http).",
    )
    hosted_zone_id: HostedZoneId | None = Field(
        None,
        description="Route 53 public zone of stock_api_domain_name (validates its certificate).",
    )
    hosted_zone_name: HostedZoneName | None = Field(
        None, description="Name of the hosted_zone_id zone."
    )
    allow_plain_http: bool = Field(
        False,
        description="Prod only: true lets prod's stock API go without stock_api_domain_name, "
        "plain HTTP from the VPC link to its internal load balancer (callers' TLS still ends "
        "at API Gateway). Off, prod's container service without a domain is an error.",
    )
    stock_api_throttle_rate: int = Field(
        100,
        ge=1,
        le=10_000,
        description="Requests per second the stock API's HTTP API stage accepts (Orders calls it "
        "once per SKU of an order).",
    )
    stock_api_throttle_burst: int = Field(
        200, ge=1, le=10_000, description="Requests the stock API's stage accepts in a burst."
    )
    # -- dashboards and alarms --------------------------------------------------------------------
    dashboards: bool = Field(
        True,
        description="A CloudWatch dashboard per service (billed per dashboard-month). The alarms "
        "exist either way.",
    )
    latency_alarm_ms: int = Field(
        2000,
        ge=50,
        le=29_000,
        description="p99 latency (ms) of a service's API above which its alarm fires.",
    )

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> MicroservicesSettings:
        require(
            self.api_throttle_rate <= self.api_throttle_burst,
            "api_throttle_burst",
            self.api_throttle_burst,
            f"allowed: {self.api_throttle_rate} (api_throttle_rate)..10000",
        )
        require(
            self.stock_api_throttle_rate <= self.stock_api_throttle_burst,
            "stock_api_throttle_burst",
            self.stock_api_throttle_burst,
            f"allowed: {self.stock_api_throttle_rate} (stock_api_throttle_rate)..10000",
        )
        require(
            self.container_min_tasks <= self.container_max_tasks,
            "container_max_tasks",
            self.container_max_tasks,
            f"allowed: {self.container_min_tasks} (container_min_tasks)..100",
        )
        problem = fargate_size_problem(self.container_cpu, self.container_memory_mib)
        require(problem is None, "container_memory_mib", self.container_memory_mib, str(problem))
        domain = (self.stock_api_domain_name, self.hosted_zone_id, self.hosted_zone_name)
        require(
            all(domain) or not any(domain),
            "stock_api_domain_name",
            self.stock_api_domain_name,
            "give stock_api_domain_name, hosted_zone_id and hosted_zone_name together, or none",
        )
        require_in_zone(
            "stock_api_domain_name",
            self.stock_api_domain_name,
            [self.stock_api_domain_name] if self.stock_api_domain_name else [],
            self.hosted_zone_name,
        )
        if self.container_service:
            require_domain_in_prod(
                info,
                domain_setting="stock_api_domain_name",
                domain=self.stock_api_domain_name,
                opt_out_setting="allow_plain_http",
                opt_out=self.allow_plain_http,
                gives_up="plain HTTP from the stock API's VPC link to its load balancer",
            )
        return self
