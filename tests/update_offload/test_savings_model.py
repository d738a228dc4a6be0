"""The savings model: its formulas behave, and the doc shows exactly what the script prints."""

from __future__ import annotations

import pytest

from benchmarks.update_offload_model import DOC_SCENARIOS, PRICES, Inputs, markdown_table, model
from tests.support.synth import REPO_ROOT


def test_no_cache_hits_means_no_origin_relief():
    r = model(Inputs(cache_hit_ratio=0.0))
    assert r.with_offload.origin_requests == r.without.origin_requests == Inputs().clients
    assert r.with_offload.origin_gb == r.without.origin_gb == r.served_gb
    assert r.instance_hours_avoided == 0


def test_origin_load_scales_with_the_miss_ratio():
    inputs = Inputs(update_size_mb=100, clients=50_000, cache_hit_ratio=0.95)
    r = model(inputs)
    assert r.served_gb == pytest.approx(50_000 * 100 / 1024)
    assert r.with_offload.origin_requests == pytest.approx(50_000 * 0.05)
    assert r.with_offload.origin_gb == pytest.approx(r.served_gb * 0.05)


def test_instance_hours_never_drop_below_the_group_minimum():
    small = model(Inputs(update_size_mb=1, clients=10, cache_hit_ratio=0.5))
    floor = Inputs().min_instances * Inputs().rollout_hours
    assert small.without.instance_hours == small.with_offload.instance_hours == floor
    big = model(Inputs(update_size_mb=500, clients=1_000_000, cache_hit_ratio=0.99))
    assert big.without.instance_hours == pytest.approx(big.served_gb * 1024 / (65 * 3600))
    assert big.instance_hours_avoided > 0


def test_cost_is_the_written_formula():
    inputs = Inputs(
        update_size_mb=1024, clients=10_000, cache_hit_ratio=0.9, min_instances=1, rollout_hours=1
    )
    r = model(inputs)
    p = {name: value for name, (value, _, _) in PRICES.items()}
    served = 10_000.0  # GB: 1 GB to each of 10,000 clients
    hours_without = served * 1024 / (65 * 3600)
    hours_with = served * 0.1 * 1024 / (65 * 3600)
    assert r.without.cost_usd == pytest.approx(
        served * (p["ec2_egress_per_gb"] + p["alb_per_gb"]) + hours_without * p["instance_per_hour"]
    )
    assert r.with_offload.cost_usd == pytest.approx(
        served * p["cloudfront_egress_per_gb"]
        + 1 * p["cloudfront_https_per_10k"]
        + served * 0.1 * p["alb_per_gb"]
        + hours_with * p["instance_per_hour"]
    )
    assert r.savings_usd > 0


@pytest.mark.parametrize(
    "bad", [{"cache_hit_ratio": 1.5}, {"clients": 0}, {"instance_throughput_mb_per_s": 0}]
)
def test_bad_inputs_are_rejected(bad):
    with pytest.raises(ValueError):
        Inputs(**bad)


def test_every_price_names_a_dated_source():
    for name, (value, what, source) in PRICES.items():
        assert value >= 0 and what and "aws.amazon.com/" in source and "2026-11-23" in source, name


def test_doc_table_is_what_the_script_prints():
    doc = (REPO_ROOT / "docs" / "update-offload.md").read_text()
    assert markdown_table(DOC_SCENARIOS) in doc
