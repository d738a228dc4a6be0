"""Reusable L3 constructs ("patterns") that more than one blueprint can compose, by family:

- `compute/`: EC2 web tiers (load balancer, Graviton Auto Scaling group from a launch template).
- `containers/`: ECS cluster and capacity, image registry and builds, web service, queue worker,
  event and scheduled tasks.
- `data/`: caches in front of data stores (DAX).
- `events/`: event-driven Lambda processing (table streams, S3 uploads to thumbnails).
- `identity/`: Cognito users and what each may touch directly.
- `kubernetes/`: EKS cluster with access, logs and add-ons; Auto Mode, node groups, Fargate;
  shared EFS storage and its StorageClass manifest.
- `web/`: static sites behind CloudFront, REST APIs built from an OpenAPI contract.

What every blueprint shares (defaults, network, the house Lambda, edge, cdk-nag) is in `house/`;
constructs only one blueprint uses live beside its stack in `blueprints/<blueprint>/`.

Named `patterns`, not `constructs`: aws-cdk-lib imports the `constructs` package, and a
top-level folder of that name in this repo would shadow it.
"""
