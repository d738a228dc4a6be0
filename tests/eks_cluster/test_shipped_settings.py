"""The EksCluster settings cdk.json ships, and why. The only tests that read cdk.json's
eks-cluster values themselves: every other test reads the settings the stage was built with,
so a fork that changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from tests.support.synth import shipped_settings


def test_dev_is_the_cheapest_sound_profile_one_graviton_node_behind_one_nat():
    """The control plane bills every hour whatever runs on it; next to it dev pays for one
    On-Demand t4g.medium (which runs every add-on, DaemonSets included), one NAT gateway (less
    than the interface endpoints in two AZs) and no Spot node until asked."""
    dev = shipped_settings("eks-cluster", "dev")
    assert dev.compute == "nodegroups"
    assert (dev.on_demand_instance_type, dev.on_demand_nodes, dev.spot_nodes) == (
        "t4g.medium",
        1,
        0,
    )
    assert (dev.nat_gateways, dev.interface_endpoints) == (1, False)
    assert not dev.container_insights and dev.control_plane_logs == ("audit",)


def test_dev_endpoint_is_public_for_a_documentation_range_the_preflight_refuses():
    dev = shipped_settings("eks-cluster", "dev")
    assert dev.endpoint_access == "public_and_private"
    assert dev.public_access_cidrs == ("192.0.2.0/24",)  # TEST-NET-1: put your address here


def test_prod_is_auto_mode_private_without_nat_with_endpoints_and_insights():
    prod = shipped_settings("eks-cluster", "prod")
    assert prod.compute == "automode"
    assert (prod.endpoint_access, prod.public_access_cidrs) == ("private", ())
    assert (prod.nat_gateways, prod.interface_endpoints) == (0, True)
    assert prod.container_insights
    assert prod.control_plane_logs == ("api", "audit", "authenticator")
    assert prod.regions == ()


def test_both_stages_pin_one_kubernetes_version_and_share_files_on_efs():
    dev = shipped_settings("eks-cluster", "dev")
    prod = shipped_settings("eks-cluster", "prod")
    assert dev.kubernetes_version == prod.kubernetes_version == "1.36"
    assert dev.efs and prod.efs
