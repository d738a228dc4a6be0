"""Inventory's stock API, run as a Fargate service behind an internal load balancer; the other
services reach it only through an HTTP API with IAM (SigV4) authorization
(docs/microservices.md)."""
