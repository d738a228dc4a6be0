"""MyTodoList's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheap
(dev) profile; docs/my-todo-list.md lists every setting with the shipped dev and prod values.

The sign-in settings are the UserIdentity pattern's options, the API and DAX settings TodoApi's:
this model inherits them, so the stack hands its settings to both as they are and a new knob is
one field where it is used.
"""

from __future__ import annotations

from pydantic import Field

from blueprints.my_todo_list.todo_api import TodoApiOptions
from house.types import Origin
from patterns.identity.user_identity import UserIdentityOptions


class MyTodoListSettings(TodoApiOptions, UserIdentityOptions):
    RENAMED = {
        "waf_enabled": "waf",
        "waf_rate_limit_per_5_minutes": "waf_rate_limit",
        "dax_enabled": "dax",
        "api_cache_enabled": "api_cache",
        "throttle_rate_limit": "api_throttle_rate",
        "throttle_burst_limit": "api_throttle_burst",
    }

    allowed_origins: tuple[Origin, ...] = Field(
        ("http://localhost:8100",),
        description="Browser origins of a hybrid/web build of the app (CORS on the API and the "
        "user-files bucket); native apps need none. Each is scheme://host[:port] or *.",
    )
