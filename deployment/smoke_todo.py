"""MyTodoList smoke: the API refuses anonymous callers; a throwaway user (made with the admin
APIs, so no emailed code is needed) signs in with SRP (enrolling TOTP when the pool requires
MFA), creates, lists, reads and deletes a to-do, and uses its own S3 folder through
identity-pool credentials, but not another identity's. The user, its identity, its files and
its to-do are deleted at the end, whatever happened.

The sign-in, the API calls and the credentials come from examples/todo_client.py, so the smoke
proves the documented client works against the deployment, not a second implementation.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from deployment.smoke_cognito import confirmed_test_user, no_prompt, srp_client
from deployment.smoke_support import (
    HTTP_TIMEOUT,
    Smoke,
    StepFailed,
    delete_object_versions,
    expect_status,
    join_url,
)

OUTPUTS = ("ApiUrl", "UserPoolId", "UserPoolClientId", "IdentityPoolId", "UserFilesBucketName")
# The SRP client (examples/todo_client.py), shared with ServerlessWebApp's smoke.
todo_client = srp_client


def delete_versions_if_allowed(s3, bucket: str, prefix: str) -> str:
    """Every version under the test identity's folder, when the smoke's role may: the
    documented policy leaves s3:ListBucketVersions/DeleteObjectVersion on the user-files bucket
    out (they would reach every user's files), and then the one noncurrent version the user's
    own delete left behind expires with the bucket's lifecycle rule."""
    try:
        count = delete_object_versions(s3, bucket, prefix)
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("AccessDenied", "403"):
            raise
        return (
            f"the user deleted its file; its noncurrent version under {prefix} expires "
            "with the bucket's lifecycle rule (the smoke's role may not delete versions)"
        )
    return f"{count} object version(s) under {prefix} deleted"


def smoke(smoke: Smoke) -> None:
    client = todo_client()
    state: dict = {}
    region = smoke.outputs.get("Region") or smoke.session.region_name
    email = f"smoke-{smoke.run_id}@example.com"

    def outputs():
        return client.StackOutputs.from_outputs(smoke.outputs, region)

    def send(method, url, headers, body):
        response = smoke.http(method, url, headers=headers, body=body, timeout=HTTP_TIMEOUT)
        return response.status, response.headers, response.body

    def bucket_exists() -> str:
        bucket = smoke.output("UserFilesBucketName")
        # GetBucketLocation, not HeadBucket: that needs s3:ListBucket, which would let the
        # smoke's role list every user's file names.
        smoke.client("s3", region=region).get_bucket_location(Bucket=bucket)
        return f"s3://{bucket} exists"

    def anonymous_refused() -> str:
        url = join_url(smoke.output("ApiUrl"), "todos")
        response = smoke.http("GET", url, headers={"Accept": "application/json"})
        expect_status(response, 401)
        return f"GET {url} without a token: 401"

    def create_user() -> str:
        state["password"] = confirmed_test_user(smoke, region, email)
        return f"{email} (confirmed, email verified, no email sent)"

    def sign_in() -> str:
        user = client.CognitoUser(
            outputs(),
            email,
            state["password"],
            prompt=no_prompt,
            idp=smoke.client("cognito-idp", region=region),
            identity=smoke.client("cognito-identity", region=region),
            # The enrolment URI carries the TOTP secret: keep it out of CI logs.
            show=lambda _message: None,
        )
        user.sign_in()
        state["user"] = user
        state["api"] = client.TodoApi(outputs().api_url, user.id_token, send=send)
        return "SRP sign-in" + (
            ", TOTP enrolled (the pool requires MFA)" if user.totp_secret else ""
        )

    def create_todo() -> str:
        title = f"smoke test {smoke.run_id}"
        status, todo = state["api"].call("POST", "/todos", {"title": title})
        if status != 201:
            raise StepFailed(f"POST /todos answered {status}, expected 201: {todo}")
        state["todo"] = todo
        smoke.cleanup("delete-test-todo", delete_todo_if_left)
        return f"POST /todos: 201, todoId {todo['todoId']}"

    def list_todos() -> str:
        items = state["api"].list_all()
        if state["todo"]["todoId"] not in [t["todoId"] for t in items]:
            raise StepFailed(f"GET /todos ({len(items)} items) does not show the new to-do")
        return f"GET /todos shows it ({len(items)} item(s))"

    def read_todo() -> str:
        todo = state["todo"]
        status, fetched = state["api"].call("GET", f"/todos/{todo['todoId']}")
        if status != 200 or not isinstance(fetched, dict) or fetched.get("title") != todo["title"]:
            raise StepFailed(f"GET /todos/{todo['todoId']} answered {status}: {fetched}")
        return f"GET /todos/{todo['todoId']}: 200, same title"

    def delete_todo() -> str:
        path = f"/todos/{state['todo']['todoId']}"
        status, body = state["api"].call("DELETE", path)
        if status != 204:
            raise StepFailed(f"DELETE {path} answered {status}, expected 204: {body}")
        state["todo_deleted"] = True
        status, body = state["api"].call("GET", path)
        if status != 404:
            raise StepFailed(f"GET {path} after the delete answered {status}, expected 404")
        return f"DELETE {path}: 204, then GET: 404"

    def delete_todo_if_left() -> str:
        if state.get("todo_deleted"):
            return "already deleted by todo-delete"
        path = f"/todos/{state['todo']['todoId']}"
        status, body = state["api"].call("DELETE", path)
        if status not in (204, 404):
            raise StepFailed(f"DELETE {path} answered {status}: {body}")
        return f"DELETE {path}: {status}"

    def own_folder() -> str:
        user, bucket = state["user"], smoke.output("UserFilesBucketName")
        identity_id, credentials = user.aws_credentials()
        state["identity_id"] = identity_id
        smoke.cleanup("delete-test-identity", delete_identity)
        key = f"private/{identity_id}/smoke-{smoke.run_id}.txt"
        s3 = smoke.client("s3", region=region, **credentials)
        state["user_s3"] = s3
        smoke.cleanup("delete-test-files", lambda: delete_files(key))
        s3.put_object(Bucket=bucket, Key=key, Body=b"smoke test")
        read = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if read != b"smoke test":
            raise StepFailed(f"read back {read!r} from {key}")
        s3.delete_object(Bucket=bucket, Key=key)
        return f"identity {identity_id}: wrote, read and deleted {key} with its own credentials"

    def isolation() -> str:
        bucket = smoke.output("UserFilesBucketName")
        other = f"private/{region}:00000000-0000-4000-8000-000000000000/"
        key = f"{other}smoke-{smoke.run_id}.txt"
        try:
            state["user_s3"].put_object(Bucket=bucket, Key=key, Body=b"must be refused")
        except ClientError as err:
            if err.response["Error"]["Code"] in ("AccessDenied", "403"):
                return "writing into another identity's folder: AccessDenied"
            raise
        smoke.cleanup("delete-intrusion", lambda: delete_intrusion(key))
        raise StepFailed(f"a user could write {key} in another identity's folder")

    def delete_identity() -> str:
        smoke.client("cognito-identity", region=region).delete_identities(
            IdentityIdsToDelete=[state["identity_id"]]
        )
        return f"identity {state['identity_id']} deleted"

    def delete_files(key: str) -> str:
        bucket = smoke.output("UserFilesBucketName")
        # The user's own delete first (idempotent), in case own-folder stopped half-way.
        state["user_s3"].delete_object(Bucket=bucket, Key=key)
        return delete_versions_if_allowed(
            smoke.client("s3", region=region), bucket, key.rsplit("/", 1)[0] + "/"
        )

    def delete_intrusion(key: str) -> str:
        bucket = smoke.output("UserFilesBucketName")
        state["user_s3"].delete_object(Bucket=bucket, Key=key)
        # The key carries the run id, so as a prefix it names this one object's versions.
        return delete_versions_if_allowed(smoke.client("s3", region=region), bucket, key)

    cognito = {"cognito-auth": "signs a throwaway user in to the user pool"}
    api = {**cognito, "http": "calls ApiUrl with the user's ID token"}
    smoke.step("user-files-bucket", bucket_exists, uses=["UserFilesBucketName"])
    smoke.step(
        "api-refuses-anonymous",
        anonymous_refused,
        uses=["ApiUrl"],
        needs={"http": "calls ApiUrl without a token"},
    )
    smoke.step(
        "create-test-user",
        create_user,
        uses=["UserPoolId"],
        needs={"cognito-auth": "creates a user with the user pool's admin APIs"},
    )
    smoke.step("sign-in", sign_in, uses=OUTPUTS, needs=cognito, after=["create-test-user"])
    smoke.step("todo-create", create_todo, needs=api, after=["sign-in"])
    smoke.step("todo-list", list_todos, needs=api, after=["todo-create"])
    smoke.step("todo-read", read_todo, needs=api, after=["todo-create"])
    smoke.step("todo-delete", delete_todo, needs=api, after=["todo-create"])
    smoke.step(
        "own-folder",
        own_folder,
        needs={"cognito-auth": "gets identity-pool credentials for the signed-in user"},
        after=["sign-in"],
    )
    smoke.step(
        "folder-isolation",
        isolation,
        after=["own-folder"],
        needs={
            "cognito-auth": "uses the signed-in user's identity-pool credentials",
            "iam-enforced": "expects IAM to deny another identity's folder",
        },
    )
