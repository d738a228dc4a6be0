"""The blueprints: one package each, holding its settings model (`settings.py`), its stacks
(`stack.py`: Stack, `build()`) and the constructs only that blueprint uses. Reusable constructs
are in `patterns/`, what every blueprint shares in `house/`.

`BLUEPRINTS` is the index `app.py` builds from: blueprint key (as in cdk.json `blueprints` and
docs/) -> its stack module, which has `SETTINGS` (the settings model), `STACK_IDS` (its stacks'
ids, which another instance derives its own from) and `build(app, instance)`. A fork that keeps
some blueprints removes the others here: their cdk.json instances are then not built and their
tests skip.
"""

from __future__ import annotations

from blueprints.container_web_app import stack as container_web_app
from blueprints.eks_cluster import stack as eks_cluster
from blueprints.employee_directory import stack as employee_directory
from blueprints.fargate_service import stack as fargate_service
from blueprints.microservices import stack as microservices
from blueprints.my_blog import stack as my_blog
from blueprints.my_todo_list import stack as my_todo_list
from blueprints.neptune_graph import stack as neptune_graph
from blueprints.serverless_web_app import stack as serverless_web_app
from blueprints.update_offload import stack as update_offload

BLUEPRINTS = {
    "container-web-app": container_web_app,
    "eks-cluster": eks_cluster,
    "employee-directory": employee_directory,
    "fargate-service": fargate_service,
    "microservices": microservices,
    "my-blog": my_blog,
    "my-todo-list": my_todo_list,
    "neptune-graph": neptune_graph,
    "serverless-web-app": serverless_web_app,
    "update-offload": update_offload,
}
