"""ECS/Fargate service blueprint (docs/fargate-service.md): `stack.py` composes the
container patterns (patterns/containers/)."""
