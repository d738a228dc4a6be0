"""DaxCache: a DynamoDB Accelerator (DAX) cluster in front of one or more tables.

Usage (a stack with a VPC, a table and a Lambda function that reads it):

    from patterns.data.dax_cache import DaxCache

    cache = DaxCache(self, "Cache", vpc=network, tables=[table],
                     node_type="dax.t3.small", nodes=1)          # prod: 3 nodes, one per AZ
    handler = python_function(..., vpc=network, vpc_subnets=ISOLATED,
                              environment={**cache.environment, "TABLE_NAME": table.table_name},
                              layers=[dynamodb_client_layer])
    cache.allow_client(handler)          # security-group rule on the TLS port, nothing else
    cache.grant_read_write_data(handler) # dax:* data actions on this cluster only

The handler then gets its DynamoDB resource from the shared layer
(`lambda_src/layers/dynamodb_client`, `dynamodb_client.dynamodb_resource()`), which goes through
DAX because `DAX_ENDPOINT` is set, and through plain boto3 where it is not.

What it creates: a subnet group over the subnets you select (isolated ones by default: DAX needs
no internet path), a parameter group with the item and query TTLs, a security group that admits
only the clients you pass (TCP 9111, the TLS port: the endpoint accepts TLS only), server-side
encryption at rest, and the IAM role DAX itself assumes to reach DynamoDB, scoped to exactly the
tables it fronts.

Cost: every node bills by the hour, traffic or not (the node types' prices are in
docgen/prices.toml; each doc's cost table multiplies them out). A single node has no failover;
AWS recommends 3 nodes (spread over 3 AZs) for production.

Consistency, which every user of this construct should know: writes through DAX update its
*item* cache (GetItem/BatchGetItem) at once, but cached *query* and scan results are not
invalidated by writes and live until `query_ttl`. A caller that must see its own writes in a
query asks for `ConsistentRead=True`, which DAX passes through to DynamoDB uncached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_dax as dax
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct
from pydantic import Field

from house.network import ISOLATED, availability_zones
from house.settings import Settings

# The environment variable the dynamodb_client layer reads: the cluster discovery URL (daxs://...).
DAX_ENDPOINT_VARIABLE = "DAX_ENDPOINT"
# DAX listens on 8111 for plain connections and 9111 for TLS; this construct only makes TLS ones.
TLS_PORT = 9111

NODE_TYPES = (
    "dax.t3.small",
    "dax.t3.medium",
    "dax.r5.large",
    "dax.r5.xlarge",
    "dax.r5.2xlarge",
    "dax.r5.4xlarge",
    "dax.r5.8xlarge",
    "dax.r5.12xlarge",
    "dax.r5.16xlarge",
    "dax.r5.24xlarge",
)
MAX_NODES = 11  # one primary + up to 10 read replicas


class DaxSettings(Settings):
    """The DAX knobs of a blueprint that puts DAX in front of its table: its settings model
    inherits these fields (MyBlog's and MyTodoList's do), so every blueprint names them alike."""

    dax: bool = Field(
        False,
        description="A DAX cluster in front of the table for the API's reads; puts the API "
        "function in a VPC. Billed per node-hour while it exists.",
    )
    dax_node_type: Literal[NODE_TYPES] = Field(
        "dax.t3.small",
        description="DAX node type: t3 nodes are burstable (spiky, mostly idle traffic), r5 for "
        "sustained load. Larger types cost more per node-hour.",
    )
    dax_nodes: int = Field(
        1,
        ge=1,
        le=MAX_NODES,
        description="Nodes in the cluster (one primary + replicas); 1 has no failover, 3 = one "
        "per AZ as AWS recommends for production. Each node is billed.",
    )
    dax_item_ttl_seconds: int = Field(
        300, ge=1, le=86_400, description="How long DAX caches a GetItem result, in seconds."
    )
    dax_query_ttl_seconds: int = Field(
        60,
        ge=1,
        le=3_600,
        description="How long DAX caches a Query/Scan result, in seconds. Writes never refresh "
        "the query cache: keep it short.",
    )


# DAX reads a table's key schema with DescribeTable before it serves the table; every data call
# a client makes through the cluster, DAX makes on DynamoDB with its own role (a miss, a
# write-through). So the cluster's role gets DescribeTable, plus exactly the data actions its
# clients are granted (`grant*` below): dax:GetItem for a client, dynamodb:GetItem for DAX.
_SERVICE_ACTIONS = ["dynamodb:DescribeTable"]
_READ_ACTIONS = ["dax:GetItem", "dax:BatchGetItem", "dax:Query", "dax:Scan"]
_WRITE_ACTIONS = [
    "dax:PutItem",
    "dax:UpdateItem",
    "dax:DeleteItem",
    "dax:BatchWriteItem",
    "dax:ConditionCheckItem",
]


class DaxCache(Construct):
    """A TLS-only, encrypted DAX cluster for `tables`, reachable only by the clients you allow.

    Args:
        `vpc`: the VPC the nodes live in. Required.
        `tables`: the tables this cluster fronts (at least one, ValueError otherwise); DAX's own
            role may call DescribeTable on exactly these (and use their customer keys), plus the
            DynamoDB actions behind what clients are granted. Required.
        `clients`: connectables (functions, security groups) admitted on the TLS port now;
            `allow_client()` admits more later. Default: (), nobody until `allow_client()`.
        `node_type`: one of NODE_TYPES. t3 nodes are burstable: fine for spiky, mostly idle
            traffic; r5 for sustained load. Default: "dax.t3.small", the smallest burstable node.
        `nodes`: 1..11 (replication factor), placed over the AZs of `subnets` in turn.
            Default: 1, a single node with no failover (dev); 3 gives one per AZ (prod).
        `subnets`: which subnets of `vpc` get the nodes. Default: ISOLATED, the VPC's isolated
            subnets (no route to the internet).
        `item_ttl`: how long GetItem results stay cached; writes through the cluster refresh the
            item cache. Default: 5 minutes.
        `query_ttl`: how long Query and Scan results stay cached; writes never refresh the query
            cache, so keep it short. Default: 1 minute.
        `maintenance_window`: e.g. "sun:05:00-sun:06:00" (UTC). Default: None, a window DAX picks.
        `description`: shown in the console. Default: None, no description.

    Attributes: cluster, subnet_group, parameter_group, security_group, role, endpoint_url,
    cluster_arn, environment, port. Methods: allow_client, grant, grant_read_data,
    grant_read_write_data.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        tables: Sequence[dynamodb.ITable],
        clients: Sequence[ec2.IConnectable] = (),
        node_type: str = "dax.t3.small",
        nodes: int = 1,
        subnets: ec2.SubnetSelection = ISOLATED,
        item_ttl: cdk.Duration = cdk.Duration.minutes(5),
        query_ttl: cdk.Duration = cdk.Duration.minutes(1),
        maintenance_window: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if node_type not in NODE_TYPES:
            raise ValueError(
                f"DaxCache {id!r}: node_type {node_type!r}; allowed: {', '.join(NODE_TYPES)}"
            )
        if not 1 <= nodes <= MAX_NODES:
            raise ValueError(f"DaxCache {id!r}: nodes {nodes}; allowed: 1..{MAX_NODES}")
        if not tables:
            raise ValueError(f"DaxCache {id!r}: give the tables the cluster fronts")
        self.port = TLS_PORT

        selected = vpc.select_subnets(
            subnet_type=subnets.subnet_type,
            subnet_group_name=subnets.subnet_group_name,
            subnets=subnets.subnets,
            availability_zones=subnets.availability_zones,
        )
        zones = availability_zones(vpc, subnets)
        self.subnet_group = dax.CfnSubnetGroup(
            self,
            "SubnetGroup",
            subnet_ids=selected.subnet_ids,
            description=f"Subnets of the {id} DAX cluster",
        )

        self.parameter_group = dax.CfnParameterGroup(
            self,
            "ParameterGroup",
            description=f"Cache TTLs of the {id} DAX cluster",
            parameter_name_values={
                "record-ttl-millis": str(int(item_ttl.to_milliseconds())),
                "query-ttl-millis": str(int(query_ttl.to_milliseconds())),
            },
        )

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{id} DAX cluster: TLS port {TLS_PORT} from its allowed clients only",
            # DAX documents inbound rules only; its nodes' own traffic (to DynamoDB, between
            # replicas) is the service's business, and isolated subnets have no route out anyway.
            allow_all_outbound=True,
        )
        self.connections = ec2.Connections(
            security_groups=[self.security_group], default_port=ec2.Port.tcp(TLS_PORT)
        )

        # The role DAX assumes to read and write the tables on a cache miss or a write-through.
        self.role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("dax.amazonaws.com"),
            description=f"Lets the {id} DAX cluster reach the tables it fronts, and nothing else",
        )
        self.tables = list(tables)
        self._service_actions: set[str] = set()
        for table in tables:
            self.role.add_to_policy(
                iam.PolicyStatement(actions=_SERVICE_ACTIONS, resources=[table.table_arn])
            )
            if table.encryption_key is not None:  # customer-managed key: DAX reads through it
                table.encryption_key.grant_encrypt_decrypt(self.role)

        self.cluster = dax.CfnCluster(
            self,
            "Cluster",
            iam_role_arn=self.role.role_arn,
            node_type=node_type,
            replication_factor=nodes,
            subnet_group_name=self.subnet_group.ref,
            parameter_group_name=self.parameter_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            # One node per AZ in turn (DAX wants as many entries as nodes): with 3 nodes over 3
            # AZs a zone outage leaves two (CT.DAX.PR.2 checks the placement is explicit).
            availability_zones=[zones[node % len(zones)] for node in range(nodes)],
            sse_specification=dax.CfnCluster.SSESpecificationProperty(sse_enabled=True),
            cluster_endpoint_encryption_type="TLS",
            preferred_maintenance_window=maintenance_window,
            description=description,
        )
        # The role's policy must exist before DAX validates the role on cluster creation.
        self.cluster.node.add_dependency(self.role)

        self.cluster_arn = self.cluster.attr_arn
        self.endpoint_url = self.cluster.attr_cluster_discovery_endpoint_url  # daxs://...:9111
        self.environment = {DAX_ENDPOINT_VARIABLE: self.endpoint_url}

        for client in clients:
            self.allow_client(client)

    def allow_client(self, client: ec2.IConnectable) -> None:
        """Admit `client` on the TLS port (and let it out to the cluster on that port)."""
        self.connections.allow_default_port_from(client, f"DAX client on TLS port {TLS_PORT}")

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Exactly `actions` (e.g. "dax:GetItem", "dax:Query") on this cluster only."""
        unknown = sorted(set(actions) - set(_READ_ACTIONS + _WRITE_ACTIONS))
        if not actions or unknown:
            raise ValueError(
                f"DaxCache.grant: actions {unknown or '(none)'}; allowed: "
                f"{', '.join(_READ_ACTIONS + _WRITE_ACTIONS)}"
            )
        self._let_dax_do(actions)
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[self.cluster_arn]
        )

    def grant_read_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """GetItem/BatchGetItem/Query/Scan through this cluster."""
        return self.grant(grantee, *_READ_ACTIONS)

    def grant_read_write_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Every DAX data action (reads, writes, conditional checks) on this cluster only."""
        return self.grant(grantee, *_READ_ACTIONS, *_WRITE_ACTIONS)

    def _let_dax_do(self, actions: Sequence[str]) -> None:
        """The cluster's role may make the DynamoDB calls behind `actions` (once each)."""
        wanted = {f"dynamodb:{action.removeprefix('dax:')}" for action in actions}
        new = sorted(wanted - self._service_actions)
        if new:
            self._service_actions.update(new)
            for table in self.tables:
                self.role.add_to_policy(
                    iam.PolicyStatement(actions=new, resources=_table_and_index_arns(table))
                )


def _table_and_index_arns(table: dynamodb.ITable) -> list[str]:
    """The table's ARN and one per index it declares: a query through DAX on an index is made on
    `<table ARN>/index/<name>`, and the names are known here (CDK's own table grants use
    `index/*`)."""
    cfn_table = table.node.default_child
    if not isinstance(cfn_table, dynamodb.CfnTable | dynamodb.CfnGlobalTable):
        raise ValueError(
            f"DaxCache: {table.node.path} is not a table of this app; its index names are unknown"
        )
    stack = cdk.Stack.of(cfn_table)
    indexes = [
        *(stack.resolve(cfn_table.global_secondary_indexes) or []),
        *(stack.resolve(cfn_table.local_secondary_indexes) or []),
    ]
    return [
        table.table_arn,
        *(f"{table.table_arn}/index/{index['indexName']}" for index in indexes),
    ]
