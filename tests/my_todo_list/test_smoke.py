"""The MyTodoList smoke against moto's Cognito user pool (SRP, MFA_SETUP with a TOTP that moto
verifies), a Stubber for the identity pool (moto cannot delete identities), moto's S3, and a
fake to-do API on a local HTTP server that authenticates callers by their ID token."""

from __future__ import annotations

import base64
import datetime
import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY

from deployment import smoke_todo
from tests.support.smoke_fakes import (  # noqa: F401 (fixtures)
    RUN_ID,
    StubbedSession,
    fixed_run_id,
    json_answer,
    run,
    statuses,
    web,
)

IDENTITY_ID = "us-east-1:11111111-1111-4111-8111-111111111111"
EMAIL = f"smoke-{RUN_ID}@example.com"


class FakeTodoApi:
    """The to-do routes as API Gateway + the handler answer them, keyed on the token's sub."""

    def __init__(self, web) -> None:
        self.todos: dict[tuple[str, str], dict] = {}
        self.create_status = 201
        self.anonymous_status = 401
        web.route("GET", "/v1/todos", self.handle)
        web.route("POST", "/v1/todos", self.handle)
        for method in ("GET", "PUT", "DELETE"):
            web.route(method, "/v1/todos/*", self.handle)

    def handle(self, request):
        token = request["headers"].get("authorization")
        if not token:
            return json_answer(self.anonymous_status, {"message": "Unauthorized"})
        payload = token.split(".")[1]
        sub = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
        path, method = request["path"].split("?", 1)[0], request["method"]
        if path == "/v1/todos" and method == "POST":
            if self.create_status != 201:
                return json_answer(self.create_status, {"message": "internal error"})
            body = json.loads(request["body"])
            todo = {
                "todoId": str(uuid.uuid4()),
                "title": body["title"],
                "done": False,
                "version": 1,
            }
            self.todos[(sub, todo["todoId"])] = todo
            return json_answer(201, todo, {"X-Last-Write": "1700000000000"})
        if path == "/v1/todos":
            items = [t for (owner, _), t in self.todos.items() if owner == sub]
            return json_answer(200, {"items": items, "nextToken": None})
        todo_id = path.rsplit("/", 1)[-1]
        if (sub, todo_id) not in self.todos:
            return json_answer(404, {"message": "to-do not found"})
        if method == "DELETE":
            del self.todos[(sub, todo_id)]
            return 204, {"X-Last-Write": "1700000000001"}, b""
        return json_answer(200, self.todos[(sub, todo_id)])


@pytest.fixture
def todo(aws, web, fixed_run_id, monkeypatch):
    """A deployed MyTodoList as far as the smoke can tell: outputs naming moto's pool (MFA
    required, as in prod), app client and bucket, the fake API, and the identity pool stubbed."""
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    idp = boto3.client("cognito-idp")
    pool = idp.create_user_pool(
        PoolName="MyTodoListUsers",
        UsernameAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True}
    )
    client_id = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="MobileClient",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="mytodolist-dev-userfiles")
    s3.put_bucket_versioning(
        Bucket="mytodolist-dev-userfiles", VersioningConfiguration={"Status": "Enabled"}
    )
    outputs = {
        "ApiUrl": f"{web.url}/v1/",
        "UserPoolId": pool,
        "UserPoolClientId": client_id,
        "IdentityPoolId": "us-east-1:22222222-2222-4222-8222-222222222222",
        "UserFilesBucketName": "mytodolist-dev-userfiles",
        "Region": "us-east-1",
    }
    return {"outputs": outputs, "api": FakeTodoApi(web), "idp": idp, "pool": pool, "s3": s3}


def identity_session(outputs, *, deleted: bool = True) -> StubbedSession:
    session = StubbedSession(services=("cognito-identity",))
    stub = session.stub("cognito-identity")
    stub.add_response(
        "get_id",
        {"IdentityId": IDENTITY_ID},
        {"IdentityPoolId": outputs["IdentityPoolId"], "Logins": ANY},
    )
    stub.add_response(
        "get_credentials_for_identity",
        {
            "IdentityId": IDENTITY_ID,
            "Credentials": {
                "AccessKeyId": "ASIAUSERTEMPORARYKEY",
                "SecretKey": "secret",
                "SessionToken": "t",
                "Expiration": datetime.datetime(2030, 1, 1),
            },
        },
        {"IdentityId": IDENTITY_ID, "Logins": ANY},
    )
    if deleted:
        stub.add_response(
            "delete_identities",
            {"UnprocessedIdentityIds": []},
            {"IdentityIdsToDelete": [IDENTITY_ID]},
        )
    return session


def assert_nothing_left(todo) -> None:
    with pytest.raises(ClientError, match="UserNotFoundException"):
        todo["idp"].admin_get_user(UserPoolId=todo["pool"], Username=EMAIL)
    assert todo["api"].todos == {}
    listed = todo["s3"].list_object_versions(Bucket="mytodolist-dev-userfiles")
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")


def test_signs_in_with_totp_creates_reads_deletes_and_leaves_nothing(todo):
    session = identity_session(todo["outputs"])
    results, lines, _ = run("MyTodoList", todo["outputs"], session=session, skip={"iam-enforced"})
    assert statuses(results) == {
        "user-files-bucket": "PASS",
        "api-refuses-anonymous": "PASS",
        "create-test-user": "PASS",
        "sign-in": "PASS",
        "todo-create": "PASS",
        "todo-list": "PASS",
        "todo-read": "PASS",
        "todo-delete": "PASS",
        "own-folder": "PASS",
        "folder-isolation": "SKIP",
        "cleanup:delete-test-files": "PASS",
        "cleanup:delete-test-identity": "PASS",
        "cleanup:delete-test-todo": "PASS",
        "cleanup:delete-test-user": "PASS",
    }, "\n".join(lines)
    assert results["sign-in"].detail == "SRP sign-in, TOTP enrolled (the pool requires MFA)"
    assert results["folder-isolation"].line == (
        "SKIP folder-isolation: needs iam-enforced (expects IAM to deny another identity's folder)"
    )
    assert not any("otpauth://" in line for line in lines)  # the TOTP secret stays out of logs
    session.assert_all_called()
    assert_nothing_left(todo)


def test_an_optional_mfa_pool_signs_in_without_totp(todo):
    todo["idp"].set_user_pool_mfa_config(
        UserPoolId=todo["pool"],
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    results, lines, _ = run(
        "MyTodoList",
        todo["outputs"],
        session=identity_session(todo["outputs"]),
        skip={"iam-enforced"},
    )
    assert results["sign-in"].detail == "SRP sign-in", lines
    assert results["todo-delete"].status == "PASS"


def test_a_wrong_totp_code_fails_the_sign_in_and_the_user_is_still_deleted(todo, monkeypatch):
    monkeypatch.setattr(smoke_todo.todo_client(), "totp", lambda secret: "000000")
    results, lines, _ = run(
        "MyTodoList",
        todo["outputs"],
        session=identity_session(todo["outputs"], deleted=False),
        skip={"iam-enforced"},
    )
    assert results["sign-in"].status == "FAIL", lines
    assert "CodeMismatchException" in results["sign-in"].detail
    assert results["todo-create"].line == "SKIP todo-create: needs sign-in (that step failed)"
    assert results["cleanup:delete-test-user"].status == "PASS"
    assert_nothing_left(todo)


def test_an_api_that_answers_without_a_token_fails(todo):
    todo["api"].anonymous_status = 200
    results, _, _ = run(
        "MyTodoList",
        todo["outputs"],
        session=identity_session(todo["outputs"]),
        skip={"iam-enforced"},
    )
    assert results["api-refuses-anonymous"].status == "FAIL"
    assert "answered 200, expected 401" in results["api-refuses-anonymous"].detail


def test_a_failing_create_skips_what_builds_on_it_and_cleans_up(todo):
    todo["api"].create_status = 500
    results, lines, _ = run(
        "MyTodoList",
        todo["outputs"],
        session=identity_session(todo["outputs"]),
        skip={"iam-enforced"},
    )
    assert results["todo-create"].status == "FAIL"
    assert "POST /todos answered 500, expected 201" in results["todo-create"].detail
    for step in ("todo-list", "todo-read", "todo-delete"):
        assert results[step].line == f"SKIP {step}: needs todo-create (that step failed)"
    assert "cleanup:delete-test-todo" not in results  # nothing was created
    assert results["own-folder"].status == "PASS", lines
    assert_nothing_left(todo)


def test_isolation_fails_when_a_user_can_write_another_identitys_folder(todo):
    """moto does not enforce IAM: exactly what a broken folder policy looks like."""
    results, lines, _ = run(
        "MyTodoList", todo["outputs"], session=identity_session(todo["outputs"])
    )
    assert results["folder-isolation"].status == "FAIL", lines
    assert "could write private/us-east-1:00000000" in results["folder-isolation"].detail
    assert results["cleanup:delete-intrusion"].status == "PASS"
    assert_nothing_left(todo)


def test_a_missing_output_fails_naming_it(todo):
    outputs = {k: v for k, v in todo["outputs"].items() if k != "UserPoolClientId"}
    results, _, _ = run("MyTodoList", outputs, session=identity_session(outputs, deleted=False))
    assert results["sign-in"].status == "FAIL"
    assert "the stack has no output 'UserPoolClientId'" in results["sign-in"].detail
    assert results["cleanup:delete-test-user"].status == "PASS"


def test_file_cleanup_leaves_versions_to_the_lifecycle_when_the_role_may_not_delete_them():
    """The documented policy grants no version access on the user-files bucket."""
    from botocore.stub import Stubber

    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(s3) as stub:
        stub.add_client_error("list_object_versions", "AccessDenied", http_status_code=403)
        detail = smoke_todo.delete_versions_if_allowed(s3, "mytodolist-dev-files", "private/x/")
    assert detail.startswith("the user deleted its file; its noncurrent version under private/x/")
    with Stubber(s3) as stub:
        stub.add_client_error("list_object_versions", "NoSuchBucket", http_status_code=404)
        with pytest.raises(ClientError, match="NoSuchBucket"):
            smoke_todo.delete_versions_if_allowed(s3, "mytodolist-dev-files", "private/x/")
