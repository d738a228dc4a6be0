"""Template snapshots of MyTodoList for dev and prod (asset hashes masked).

Update deliberately: BLUEPRINTS=my-todo-list .venv/bin/python -m pytest tests/my_todo_list
--snapshot-update, then read the diff of __snapshots__/.
"""

from tests.support.snapshots import assert_matches_snapshot


def test_snapshot(assembly, snapshot):
    assert_matches_snapshot(assembly, "MyTodoList", snapshot)
