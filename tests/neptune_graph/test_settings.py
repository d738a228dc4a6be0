"""NeptuneGraph settings: each bad value fails at synth time with the setting's name."""

from __future__ import annotations

import pytest

from blueprints.neptune_graph.settings import NeptuneGraphSettings
from house.settings import parse_settings

WHERE = "blueprints.neptune-graph.dev"


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"serverless_min_ncu": 8, "serverless_max_ncu": 8},
            "serverless_min_ncu' is 8.0; must be less than serverless_max_ncu (8.0)",
        ),
        ({"serverless_min_ncu": 0.5}, "serverless_min_ncu' is 0.5; allowed: 1.0..128.0"),
        ({"serverless_max_ncu": 256}, "serverless_max_ncu' is 256; allowed: 1.0..128.0"),
        ({"serverless_max_ncu": 10.3}, "serverless_max_ncu' is 10.3; allowed: steps of 0.5"),
        (
            {"capacity": "burst"},
            "capacity' is 'burst'; expected one of 'provisioned', 'serverless'",
        ),
        (
            {"instance_class": "t4g.medium"},
            "instance_class' is 't4g.medium'; expected a Neptune instance class",
        ),
        ({"instance_class": "db.t4g.medium\n"}, "expected a Neptune instance class"),
        ({"read_replicas": 16}, "read_replicas' is 16; allowed: 0..15"),
        ({"backup_retention_days": 0}, "backup_retention_days' is 0; allowed: 1..35"),
        (
            {"client_security_group_ids": ["0.0.0.0/0"]},
            "client_security_group_ids[0]' is '0.0.0.0/0'; expected a security group id",
        ),
        (
            {"auto_load_prefix": "incoming"},
            "auto_load_prefix' is 'incoming'; expected '' (the bucket's root) or S3 folders",
        ),
        ({"auto_load_prefix": "in*/"}, "auto_load_prefix' is 'in*/'"),
        ({"marker_suffix": "*.ready"}, "marker_suffix' is '*.ready'"),
        (
            {"auto_load_format": "graphml"},
            "auto_load_format' is 'graphml'; expected one of 'csv', 'opencypher'",
        ),
        ({"analytics_memory_ncu": 20}, "analytics_memory_ncu' is 20; expected one of 16, 32"),
        ({"vpc_id": "my-vpc"}, "vpc_id' is 'my-vpc'; expected a VPC id"),
        ({"replicas": 1}, "unknown setting(s) blueprints.neptune-graph.dev.replicas"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_setting(raw, message):
    with pytest.raises(ValueError) as error:
        parse_settings(NeptuneGraphSettings, raw, WHERE)
    assert message in str(error.value)
    assert f"{WHERE}." in str(error.value)


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
