"""The UpdateOffload settings cdk.json ships, and why. The only tests that read cdk.json's
update-offload values themselves: every other test reads the settings the stage was built with,
so a fork that changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from blueprints.update_offload.settings import STACK_REGION
from house.domains import PLACEHOLDER_HOSTED_ZONE_ID, is_placeholder
from tests.support.synth import shipped_settings


def test_dev_is_one_small_graviton_instance_in_a_public_subnet():
    dev = shipped_settings("update-offload", "dev")
    assert (dev.instance_type, dev.min_instances, dev.max_instances) == ("t4g.micro", 1, 2)
    assert (dev.instance_subnets, dev.nat_gateways) == ("public", 0), "no NAT gateway"
    assert dev.price_class == "PriceClass_100" and not dev.waf
    assert dev.origin_shield_region is None
    assert dev.fallback_instance_types == (), (
        "t4g is not a Nitro type with encryption in transit, the only fallbacks Control Tower "
        "accepts (docs/compliance.md)"
    )
    assert dev.domain_names == (), "dev: *.cloudfront.net, HTTP inside the VPC to the origin"


def test_prod_has_network_optimised_instances_behind_nat_and_a_shielded_guarded_edge():
    prod = shipped_settings("update-offload", "prod")
    assert (prod.instance_type, prod.min_instances, prod.max_instances) == ("c7g.medium", 3, 9)
    assert (prod.instance_subnets, prod.nat_gateways) == ("private", 3), "one NAT per AZ"
    assert prod.price_class == "PriceClass_All" and prod.waf
    assert prod.origin_shield_region == STACK_REGION, "the shield follows the origin's region"
    assert prod.fallback_instance_types == ("m7g.medium", "c7gd.medium"), (
        "same vCPU, Graviton, Nitro encryption in transit; launched only when c7g runs out"
    )


def test_prod_ships_placeholder_domain_settings_the_preflight_refuses_until_they_are_yours():
    """Prod serves TLS 1.2+ on a domain of yours and reaches the update server over HTTPS as
    origin.<domain>; cdk.json cannot know yours, so it names example.com and a zone id that
    says what to put there (house/domains.py), and never turns the opt-out on."""
    prod = shipped_settings("update-offload", "prod")
    assert prod.domain_names == ("updates.example.com",)
    assert all(is_placeholder(name) for name in prod.domain_names)
    assert (prod.hosted_zone_id, prod.hosted_zone_name) == (
        PLACEHOLDER_HOSTED_ZONE_ID,
        "example.com",
    )
    assert prod.certificate_arn is None and not prod.allow_tls_below_1_2


def test_both_stages_build_the_app_and_put_the_offload_in_front_of_it():
    for stage in ("dev", "prod"):
        settings = shipped_settings("update-offload", stage)
        assert settings.update_server and settings.origin_domain_name is None


def test_both_stages_fail_over_to_the_update_mirror_the_app_stack_builds():
    """CT.CLOUDFRONT.PR.4 passes in both stages with no setting: the UpdateServer brings the
    mirror (an S3 bucket has no idle cost; dev SSE-S3, prod the origin key), so neither stage
    names a failover origin of its own or opts out."""
    for stage in ("dev", "prod"):
        settings = shipped_settings("update-offload", stage)
        assert settings.update_server
        assert settings.failover_origin_domain_name is None and not settings.allow_single_origin
