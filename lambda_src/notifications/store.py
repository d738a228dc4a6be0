"""Notifications' data access: the notifications table (made on first use)."""

from __future__ import annotations

import functools

import config


@functools.cache
def _table():
    import boto3

    return boto3.resource("dynamodb").Table(config.settings().table_name)


def put(notice: dict) -> None:
    _table().put_item(Item=notice)
