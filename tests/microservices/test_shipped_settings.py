"""The microservices settings cdk.json ships, and why. The only tests that read cdk.json's
microservices values themselves."""

from __future__ import annotations

from tests.support.synth import shipped_settings


def test_dev_bills_nothing_while_idle():
    dev = shipped_settings("microservices", "dev")
    assert dev.kinesis is False, "a stream bills by the hour"
    assert dev.container_service is False, "an ALB and a task bill by the hour"
    assert dev.reserved_concurrency is None, (
        "a new account may have a limit of 10, all of it unreservable"
    )
    assert dev.dashboards is False, "a dashboard bills per month beyond the free ones"
    assert (dev.api_throttle_rate, dev.api_throttle_burst) == (20, 40)
    assert dev.event_archive_days == 7


def test_prod_has_the_stream_reservations_and_room_to_scale():
    prod = shipped_settings("microservices", "prod")
    assert prod.kinesis is True and prod.kinesis_shards == 1, (
        "one shard is cheaper idle than on-demand"
    )
    assert prod.reserved_concurrency == 20
    assert prod.consumer_max_concurrency == 10
    assert (prod.api_throttle_rate, prod.api_throttle_burst) == (200, 400)
    assert prod.event_archive_days == 90
    assert prod.container_service is True, "the stock API on Fargate, called with SigV4"
    assert prod.container_subnets == "private", "no public address on a prod task (CT.ECS.PR.9)"
    assert prod.container_insights is True, "task and service metrics in prod (CT.ECS.PR.2)"
    assert (prod.container_min_tasks, prod.container_max_tasks) == (2, 6)
    assert prod.stock_api_domain_name == "stock.shop.example.com", (
        "HTTPS from the VPC link to the load balancer (CT.ELASTICLOADBALANCING.PR.1); a "
        "placeholder the preflight refuses until it is a name of yours"
    )
    assert (prod.hosted_zone_id, prod.hosted_zone_name) == ("ZREPLACEWITHYOURZONE", "example.com")
    assert prod.allow_plain_http is False
    assert prod.dashboards is True
