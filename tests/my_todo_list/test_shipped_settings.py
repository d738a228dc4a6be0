"""The MyTodoList settings cdk.json ships, and why. The only tests that read cdk.json's
my-todo-list values themselves: every other test reads the settings the stage was built with, so
a fork that changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from tests.support.synth import shipped_settings


def test_dev_is_cheap_and_lets_a_test_user_sign_in_without_an_authenticator():
    dev = shipped_settings("my-todo-list", "dev")
    assert (dev.dax, dev.api_cache, dev.waf, dev.threat_protection) == (False,) * 4
    assert dev.mfa == "OPTIONAL"
    assert dev.allowed_origins == ("http://localhost:8100",), "the Ionic dev server"
    assert (dev.api_throttle_rate, dev.api_throttle_burst) == (20, 40)


def test_prod_has_the_read_path_and_strict_sign_in():
    prod = shipped_settings("my-todo-list", "prod")
    assert (prod.dax, prod.api_cache, prod.waf, prod.threat_protection) == (True,) * 4
    assert prod.mfa == "REQUIRED"
    assert prod.dax_nodes == 3 and prod.dax_node_type == "dax.t3.medium"
    assert prod.api_cache_size_gb == "0.5" and prod.api_cache_ttl_seconds == 30
    assert prod.allowed_origins == (), "a native app needs no CORS"
    assert (prod.api_throttle_rate, prod.api_throttle_burst) == (200, 400)


def test_both_stages_are_regional():
    for stage in ("dev", "prod"):
        assert shipped_settings("my-todo-list", stage).endpoint_type == "REGIONAL"
