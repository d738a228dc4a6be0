"""Wiring tests: run a stack's code against moto resources built from its own template, with the
IAM role the template gives that code.

Template assertions check the stack and handler tests check the code, each against its own idea
of the other. The wiring tests close the gap. The parts, one module each:

    intrinsics.py       TemplateResolver: physical names, Ref/Fn::GetAtt/Fn::Sub/... resolved
    moto_resources.py   StackInMoto: the template's tables, buckets, queues, topics, log groups,
                        SES identities, state machines created in moto
    moto_iam.py         ... and its IAM roles and policies
    iam_enforcement.py  enforced(): moto's IAM authorization on; RoleCredentials; what that
                        proves and what it does not
    iam_resource_arns.py  the shim giving moto the resource ARN AWS evaluates
    stubbed_services.py the same evaluator for what moto cannot serve (Neptune data API, DAX)
    iam_refusals.py     refusals(), attempt(): what IAM refused, whatever the code made of it
    iam_statements.py   reading a role's statements from a template (every test's one helper)
    lambda_runner.py    FunctionInProcess: a handler imported from its asset folder, run with
                        the template's environment as its execution role; import_from
    lambda_service.py   what the Lambda service itself does with the execution role
    handlers.py         handler unit tests: load_function (import once), fresh (per test)
    eventbridge.py      event_matches, rule_target_input, s3_object_created_event
    dax.py              the DAX stand-in (moto's DynamoDB as the cluster's role)
    grant_mutation.py   one grant removed from a template (the mutation check)
    strategies.py       Hypothesis strategies for what JSON can carry (property tests)

Use inside `moto.mock_aws()` (the `local_stack` fixture in tests/conftest.py does that):

    stack = local_stack(assembly, "MyTodoList")
    api = stack.function("Api/Handler")          # by construct path, as in the tree
    response = api.invoke({...})  # imported from the asset; env and role from the template

This module keeps the names other tests import from it.
"""

from tests.support.eventbridge import event_matches, rule_target_input, s3_object_created_event
from tests.support.handlers import fresh, load_function
from tests.support.intrinsics import ACCOUNT, NO_VALUE, TemplateResolver, UnresolvableIntrinsic
from tests.support.lambda_runner import FunctionInProcess, LambdaContext, import_from
from tests.support.moto_resources import StackInMoto

__all__ = [
    "ACCOUNT",
    "NO_VALUE",
    "FunctionInProcess",
    "LambdaContext",
    "StackInMoto",
    "TemplateResolver",
    "UnresolvableIntrinsic",
    "event_matches",
    "fresh",
    "import_from",
    "load_function",
    "rule_target_input",
    "s3_object_created_event",
]
