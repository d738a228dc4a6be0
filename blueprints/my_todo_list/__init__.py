"""MyTodoList blueprint (docs/my-todo-list.md): `stack.py` composes the user identity and
`todo_api.py`."""
