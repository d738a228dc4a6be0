"""Signing a throwaway user in to a Cognito user pool, for the smokes of every blueprint with
sign-in (MyTodoList, ServerlessWebApp): examples/todo_client.py's SRP client (one
implementation of the flow), a password the house pools accept, and a prompt that fails the
step instead of waiting for a person."""

from __future__ import annotations

import importlib.util
import secrets
import sys
from functools import cache
from pathlib import Path

from botocore.exceptions import ClientError

from deployment.smoke_support import Smoke, StepFailed

CLIENT_PATH = Path(__file__).resolve().parent.parent / "examples" / "todo_client.py"


@cache
def srp_client():
    """examples/todo_client.py as a module (examples/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("blueprints_todo_client", CLIENT_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look the module up while being built
    spec.loader.exec_module(module)
    return module


def throwaway_password() -> str:
    # The pools ask for >= 12 characters with lower, upper, digit and symbol.
    return secrets.token_urlsafe(24) + "aA1!"


def no_prompt(question: str) -> str:
    raise StepFailed(
        f"the sign-in asked a person for input ({question.strip()}); a smoke cannot answer"
    )


def confirmed_test_user(smoke: Smoke, region: str, email: str) -> str:
    """A user of the stack's pool (output UserPoolId) with a verified `email`, made with the
    admin APIs (no e-mail is sent, no code is needed) and deleted when the smoke cleans up;
    returns its permanent password."""
    idp = smoke.client("cognito-idp", region=region)
    pool = smoke.output("UserPoolId")
    idp.admin_create_user(
        UserPoolId=pool,
        Username=email,
        MessageAction="SUPPRESS",
        TemporaryPassword=throwaway_password(),
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
    )

    def delete_user() -> str:
        try:
            idp.admin_delete_user(UserPoolId=pool, Username=email)
        except ClientError as err:
            if err.response["Error"]["Code"] != "UserNotFoundException":
                raise
        return f"{email} deleted"

    smoke.cleanup("delete-test-user", delete_user)
    password = throwaway_password()
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    return password
