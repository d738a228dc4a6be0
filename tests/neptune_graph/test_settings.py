"""NeptuneGraph settings: each bad value fails at synth time with the setting's name."""

from __future__ import annotations

import pytest

from blueprints.neptune_graph.stack import NeptuneGraphSettings
from house.settings import parse_settings

WHERE = "blueprints.neptune-graph.dev"


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"serverless_min_ncu": 8, "serverless_max_ncu": 8},
            "'serverless_min_ncu' is 8.0; must be less than serverless_max_ncu",
        ),
        ({"serverless_min_ncu": 0.5}, r"'serverless_min_ncu' is 0.5; allowed: 1.0..128.0 NCUs"),
        ({"serverless_max_ncu": 256}, r"'serverless_max_ncu' is 256.0; allowed: 1.0..128.0 NCUs"),
        ({"serverless_max_ncu": 10.3}, "steps of 0.5"),
        (
            {"capacity": "burst"},
            r"'blueprints.neptune-graph.dev.capacity' is 'burst'; "
            r"expected one of 'provisioned', 'serverless'",
        ),
        (
            {"instance_class": "t4g.medium"},
            "'instance_class' is 't4g.medium'; expected a Neptune instance class",
        ),
        ({"read_replicas": 16}, r"'read_replicas' is 16; allowed: 0..15"),
        ({"backup_retention_days": 0}, r"'backup_retention_days' is 0; allowed: 1..35 days"),
        (
            {"client_security_group_ids": ["0.0.0.0/0"]},
            "'client_security_group_ids' is '0.0.0.0/0'",
        ),
        (
            {"auto_load_prefix": "incoming"},
            "'auto_load_prefix' is 'incoming'; expected '' or S3 folders ending in '/'",
        ),
        ({"auto_load_prefix": "in*/"}, "'auto_load_prefix'"),
        ({"marker_suffix": "*.ready"}, "'marker_suffix'"),
        (
            {"auto_load_format": "graphml"},
            "'auto_load_format' is 'graphml'; allowed: csv, opencypher",
        ),
        ({"analytics_memory_ncu": 20}, r"'analytics_memory_ncu' is 20; allowed: 16, 32"),
        ({"vpc_id": "my-vpc"}, "'vpc_id' is 'my-vpc'"),
        ({"replicas": 1}, r"unknown setting\(s\) blueprints.neptune-graph.dev.replicas"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_setting(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_settings(NeptuneGraphSettings, raw, WHERE)


def test_defaults_are_the_cheap_dev_profile():
    settings = parse_settings(NeptuneGraphSettings, {}, WHERE)
    assert settings.capacity == "provisioned" and settings.instance_class == "db.t4g.medium"
    assert (
        settings.read_replicas == 0
        and not settings.workbench_notebook
        and not settings.analytics_graph
    )


def test_bad_setting_fails_the_whole_synth(tmp_path):
    from tests.support.synth import synthesize

    with pytest.raises(ValueError, match="serverless_max_ncu"):
        synthesize(
            "dev",
            tmp_path,
            {
                "blueprints_only": "neptune-graph",
                "blueprints": {"neptune-graph": {"dev": {"serverless_max_ncu": 500}}},
            },
        )
