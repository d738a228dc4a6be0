"""handler_kit.settings: a function's configuration, read once and validated; every problem is
one ConfigurationError naming the variable, its value and what is allowed."""

from __future__ import annotations

import pytest

from tests.support.wiring import load_function


@pytest.fixture(scope="module")
def kit():
    return load_function("layers/handler_kit", "handler_kit.settings")


def read(kit, values: dict[str, str]) -> dict:
    with kit.environment(values) as env:
        return {
            "table": env.text("TABLE_NAME"),
            "size": env.integer("PAGE_SIZE", default=25, minimum=1, maximum=100),
            "strict": env.flag("STRICT", default=False),
            "mode": env.choice("MODE", ("csv", "json"), default="csv"),
            "origins": env.items("ALLOWED_ORIGINS", default=()),
            "arn": env.text("ROLE_ARN", default="", pattern=r"arn:aws:iam::[0-9]{12}:role/.+"),
        }


def test_values_and_defaults(kit):
    assert read(kit, {"TABLE_NAME": "t"}) == {
        "table": "t",
        "size": 25,
        "strict": False,
        "mode": "csv",
        "origins": (),
        "arn": "",
    }
    assert read(
        kit,
        {
            "TABLE_NAME": "t",
            "PAGE_SIZE": "7",
            "STRICT": "TRUE",
            "MODE": "json",
            "ALLOWED_ORIGINS": " https://a.example, ,https://b.example ",
            "ROLE_ARN": "arn:aws:iam::123456789012:role/load",
        },
    ) == {
        "table": "t",
        "size": 7,
        "strict": True,
        "mode": "json",
        "origins": ("https://a.example", "https://b.example"),
        "arn": "arn:aws:iam::123456789012:role/load",
    }


def test_an_empty_variable_with_a_default_takes_the_default(kit):
    # The construct sets ALLOWED_ORIGINS to "" when there are none.
    assert read(kit, {"TABLE_NAME": "t", "ALLOWED_ORIGINS": "", "PAGE_SIZE": " "})["size"] == 25


def test_every_problem_is_named_at_once(kit):
    with pytest.raises(kit.ConfigurationError) as raised:
        read(
            kit,
            {
                "PAGE_SIZE": "²",
                "STRICT": "yes",
                "MODE": "xml",
                "ROLE_ARN": "arn:aws:iam::123456789012:user/x",
            },
        )
    message = str(raised.value)
    assert message.startswith("5 problem(s) with the function's environment: ")
    for expected in (
        "TABLE_NAME is not set",
        "PAGE_SIZE='²' is not a whole number",
        "STRICT='yes'; allowed: true, false",
        "MODE='xml'; allowed: csv, json",
        "ROLE_ARN='arn:aws:iam::123456789012:user/x' does not match",
    ):
        assert expected in message


def test_a_required_variable_that_is_empty_is_named(kit):
    with pytest.raises(kit.ConfigurationError, match="TABLE_NAME is empty"):
        with kit.environment({"TABLE_NAME": " "}) as env:
            env.text("TABLE_NAME")


def test_a_number_out_of_range_is_named_with_the_range(kit):
    with pytest.raises(
        kit.ConfigurationError, match=r"PAGE_SIZE=0 is out of range; allowed: 1\.\.100"
    ):
        with kit.environment({"PAGE_SIZE": "0"}) as env:
            env.integer("PAGE_SIZE", minimum=1, maximum=100)
