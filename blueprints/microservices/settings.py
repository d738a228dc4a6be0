"""Microservices' settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheap
(dev) profile; docs/microservices.md lists every setting with the shipped dev and prod values."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from house.settings import Settings, require
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
    def _rules(self) -> MicroservicesSettings:
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
        return self
