"""NeptuneGraph's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheap
(dev) profile; docs/neptune-graph.md lists every setting with the shipped dev and prod values."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from blueprints.neptune_graph.cluster import SERVERLESS_NCU_LIMITS
from blueprints.neptune_graph.tools import ANALYTICS_MEMORY_SIZES
from house.settings import Settings, require
from house.types import S3FolderOrRoot, SecurityGroupId, VpcId, matching

NeptuneInstanceClass = matching(
    r"db\.(t3|t4g|r5|r5d|r6g|r6gd|r6i|r6id|r7g|r7i|r8g|x2g|x2iedn)\."
    r"(medium|large|xlarge|\d+xlarge)",
    "a Neptune instance class like db.t4g.medium or db.r6g.large",
)
MarkerSuffix = matching(r"[A-Za-z0-9!_.'()-]+", "a file-name ending like '.ready' or '_READY'")
NotebookInstanceType = matching(
    r"ml\.[a-z0-9]+\.[a-z0-9]+", "a SageMaker instance type like ml.t3.medium"
)
LOW_NCU, HIGH_NCU = SERVERLESS_NCU_LIMITS


class NeptuneGraphSettings(Settings):
    capacity: Literal["provisioned", "serverless"] = Field(
        "provisioned",
        description="provisioned: instances of instance_class, billed per hour; serverless: "
        "capacity in NCUs between serverless_min_ncu and serverless_max_ncu, billed per "
        "NCU-hour.",
    )
    instance_class: NeptuneInstanceClass = Field(
        "db.t4g.medium",
        description="Instance class of the writer and each read replica (provisioned): "
        "burstable t4g for light use, memory-optimised r6g for production. Billed per hour.",
    )
    serverless_min_ncu: float = Field(
        LOW_NCU,
        ge=LOW_NCU,
        le=HIGH_NCU,
        multiple_of=0.5,
        description="Fewest NCUs a serverless instance scales to (billed even when idle).",
    )
    serverless_max_ncu: float = Field(
        8.0,
        ge=LOW_NCU,
        le=HIGH_NCU,
        multiple_of=0.5,
        description="Most NCUs a serverless instance scales to.",
    )
    read_replicas: int = Field(
        0,
        ge=0,
        le=15,
        description="Read replicas beside the writer (failover targets, reader endpoint). Each "
        "is billed like the writer.",
    )
    backup_retention_days: int = Field(
        1, ge=1, le=35, description="Days of automated backups (point-in-time restore)."
    )
    client_security_group_ids: tuple[SecurityGroupId, ...] = Field(
        (), description="Security groups of your own clients that may reach port 8182."
    )
    vpc_id: VpcId | None = Field(
        None,
        description="Bring your own VPC (looked up at synth: needs an account and region); "
        "null = create an isolated one.",
    )
    auto_load_prefix: S3FolderOrRoot = Field(
        "incoming/",
        description="Staging bucket folder watched for automatic loads.",
    )
    marker_suffix: MarkerSuffix = Field(
        ".ready",
        description="A file ending in this, dropped next to a folder, starts its load.",
    )
    auto_load_format: Literal["csv", "opencypher", "ntriples", "nquads", "rdfxml", "turtle"] = (
        Field("csv", description="Neptune bulk-load format of automatic loads.")
    )
    load_timeout_hours: int = Field(
        24, ge=1, le=24 * 7, description="How long the load workflow waits for a load, in hours."
    )
    workbench_notebook: bool = Field(
        False,
        description="A Neptune Workbench (SageMaker) notebook in the VPC. Billed per hour while "
        "it runs.",
    )
    notebook_instance_type: NotebookInstanceType = Field(
        "ml.t3.medium", description="Instance type of the notebook."
    )
    analytics_graph: bool = Field(
        False,
        description="A Neptune Analytics graph with a private endpoint. Billed per m-NCU-hour "
        "while it exists.",
    )
    analytics_memory_ncu: Literal[ANALYTICS_MEMORY_SIZES] = Field(
        16, description="Memory of the Neptune Analytics graph, in m-NCUs."
    )

    @model_validator(mode="after")
    def _graph_rules(self) -> NeptuneGraphSettings:
        require(
            self.serverless_min_ncu < self.serverless_max_ncu,
            "serverless_min_ncu",
            self.serverless_min_ncu,
            f"must be less than serverless_max_ncu ({self.serverless_max_ncu})",
        )
        return self
