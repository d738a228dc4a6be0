"""handler_kit.item_updates against moto's DynamoDB: the update built from a dict of changes sets
and removes exactly those attributes (whatever their names), keeps the caller's own SET clauses,
and a failed condition is told apart from every other error."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.wiring import load_function


@pytest.fixture(scope="module")
def updates():
    return load_function("layers/handler_kit", "handler_kit.item_updates")


@pytest.fixture
def table(aws):
    dynamodb = boto3.resource("dynamodb")
    return dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def apply(updates, table, changes):
    names, values = {"#version": "version"}, {":one": 1}
    expression = updates.update_expression(
        changes, sets=["#version = #version + :one"], names=names, values=values
    )
    return table.update_item(
        Key={"pk": "a"},
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )["Attributes"]


# Attribute names DynamoDB reserves or that no expression could spell literally.
NAMES = st.sampled_from(["name", "status", "size", "a.b", "with space", "#hash", "title", "x"])


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(NAMES, st.one_of(st.none(), st.text(min_size=1, max_size=5))))
def test_changes_set_and_remove_exactly_the_named_attributes(updates, table, changes):
    stored = {"pk": "a", "version": 1, "name": "old", "status": "old", "title": "old"}
    table.put_item(Item=stored)
    new = apply(updates, table, changes)
    expected = {**stored, "version": 2}
    for name, value in changes.items():
        if value is None:
            expected.pop(name, None)
        else:
            expected[name] = value
    assert new == expected


def test_the_callers_own_clauses_are_kept_and_its_lists_are_not_changed(updates):
    sets = ["#version = #version + :one"]
    names, values = {"#version": "version"}, {":one": 1}
    expression = updates.update_expression(
        {"b": None, "a": 1}, sets=sets, names=names, values=values
    )
    assert expression == "SET #version = #version + :one, #f0 = :v0 REMOVE #f1"
    assert names == {"#version": "version", "#f0": "a", "#f1": "b"}
    assert values == {":one": 1, ":v0": 1}
    assert sets == ["#version = #version + :one"]


def test_a_failed_condition_is_told_apart_from_other_errors(updates, table):
    with pytest.raises(ClientError) as missing:
        apply(updates, table, {"name": "new"})
    assert updates.condition_failed(missing.value)
    table.delete()
    with pytest.raises(ClientError) as gone:
        apply(updates, table, {"name": "new"})
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert not updates.condition_failed(gone.value)
