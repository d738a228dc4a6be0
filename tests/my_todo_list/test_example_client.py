"""examples/todo_client.py: its SRP and TOTP maths against the RFCs and a textbook SRP server, and
the whole client flow (sign-up, SRP sign-in with MFA enrolment, API, identity-pool credentials,
own S3 folder) against moto plus the to-do handler and user-files bucket of the dev template."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import importlib.util
import io
import json
import secrets
import sys

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.my_todo_list.events import api_event
from tests.support.synth import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    "example_todo_client", REPO_ROOT / "examples" / "todo_client.py"
)
client = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = client  # dataclasses look their module up while the class is built
spec.loader.exec_module(client)


def rfc3526_prime() -> int:
    """2^3072 - 2^3008 - 1 + 2^64 * (floor(2^2942 pi) + 1690314), pi by Machin's formula."""
    guard, bits = 64, 2942
    one = 1 << (bits + guard)

    def atan_inverse(x: int) -> int:
        total = term = one // x
        n, sign = 1, -1
        while term:
            term //= x * x
            n += 2
            total += sign * (term // n)
            sign = -sign
        return total

    pi_scaled = (16 * atan_inverse(5) - 4 * atan_inverse(239)) >> guard
    return 2**3072 - 2**3008 - 1 + 2**64 * (pi_scaled + 1690314)


def test_the_srp_group_is_rfc_3526s_3072_bit_prime():
    assert client.N == rfc3526_prime()
    assert client.G == 2


def test_srp_password_claim_matches_what_a_textbook_srp_server_derives():
    pool_id, user_id, password = "us-east-1_AbCdEfGhI", "7d1e2f3a-user-id", "Corr3ct horse!"
    salt = secrets.token_hex(16)
    x = client.srp_x("AbCdEfGhI", user_id, password, salt)
    verifier = pow(client.G, x, client.N)  # what the user pool stored at sign-up
    b = secrets.randbits(1024)
    big_b = (client.K * verifier + pow(client.G, b, client.N)) % client.N
    secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
    challenge = {
        "USER_ID_FOR_SRP": user_id,
        "SRP_B": format(big_b, "x"),
        "SALT": salt,
        "SECRET_BLOCK": secret_block,
    }
    timestamp = "Tue Mar 3 09:05:07 UTC 2026"
    srp = client.SrpClient(pool_id)
    answer = srp.password_claim(challenge, password, timestamp)

    u = client.srp_u(srp.big_a, big_b)
    server_secret = pow(srp.big_a * pow(verifier, u, client.N), b, client.N)
    key = client.hkdf_key(server_secret, u)
    message = b"AbCdEfGhI" + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    assert answer == {
        "USERNAME": user_id,
        "TIMESTAMP": timestamp,
        "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
        "PASSWORD_CLAIM_SIGNATURE": expected,
    }
    wrong = client.SrpClient(pool_id, a=srp.a).password_claim(
        challenge, "wrong password", timestamp
    )
    assert wrong["PASSWORD_CLAIM_SIGNATURE"] != expected


def test_pad_hex_never_makes_a_negative_looking_number():
    assert client.pad_hex(0xABC) == "0abc"
    assert client.pad_hex(0x8F) == "008f"
    assert client.pad_hex(0x7F) == "7f"


def test_srp_timestamp_has_no_leading_zero_on_the_day():
    moment = datetime.datetime(2026, 3, 3, 9, 5, 7, tzinfo=datetime.UTC)
    assert client.srp_timestamp(moment) == "Tue Mar 3 09:05:07 UTC 2026"


@pytest.mark.parametrize(
    "at, code", [(59, "287082"), (1111111109, "081804"), (2000000000, "279037")]
)
def test_totp_matches_the_rfc_6238_vectors(at, code):
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert client.totp(secret, at=at) == code


# -- the whole flow against moto and the dev template's handler ---------------------------------


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def deployed(synth, local_stack):
    """The dev stack's table, bucket and handler in moto, plus a user pool (MFA required, as in
    prod), its app client and identity pool made with the template's own settings."""
    stack = local_stack(synth("dev"), "MyTodoList")
    idp = boto3.client("cognito-idp", region_name=stack.region)
    pool_props = stack.properties(stack.logical_id("Identity/UserPool", "AWS::Cognito::UserPool"))
    pool = idp.create_user_pool(
        PoolName="MyTodoListUsers",
        Policies=pool_props["Policies"],
        UsernameAttributes=pool_props["UsernameAttributes"],
        AutoVerifiedAttributes=pool_props["AutoVerifiedAttributes"],
    )["UserPool"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"],
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    client_props = stack.properties(
        stack.logical_id("Identity/UserPool/MobileClient", "AWS::Cognito::UserPoolClient")
    )
    app_client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="mobile",
        GenerateSecret=client_props["GenerateSecret"],
        ExplicitAuthFlows=client_props["ExplicitAuthFlows"],
    )["UserPoolClient"]
    identity_pool = boto3.client("cognito-identity", region_name=stack.region).create_identity_pool(
        IdentityPoolName="MyTodoListIdentities",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": pool["Id"], "ClientId": app_client["ClientId"]}],
    )
    bucket = stack.ref(stack.logical_id("Identity/UserFiles", "AWS::S3::Bucket"))
    outputs = client.StackOutputs(
        api_url="https://api.example.test/v1/",
        user_pool_id=pool["Id"],
        client_id=app_client["ClientId"],
        identity_pool_id=identity_pool["IdentityPoolId"],
        bucket=bucket,
        region=stack.region,
    )
    return stack, outputs


def gateway_to(handler):
    """API Gateway in-process: the authorizer's claims come from the ID token, as in AWS."""

    def send(method, url, headers, body):
        path = url.split("/v1", 1)[1]
        path, _, query = path.partition("?")
        claims_sub = jwt_claims(headers["Authorization"])["sub"]
        event = api_event(
            method,
            path,
            user=claims_sub,
            body=body.decode() if body else None,
            query=dict(q.split("=", 1) for q in query.split("&")) if query else None,
            headers={k: v for k, v in headers.items() if k != "Authorization"},
        )
        response = handler.invoke(event)
        flat = {k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
        return int(response["statusCode"]), flat, (response.get("body") or "").encode()

    return send


def test_client_signs_up_signs_in_with_mfa_uses_the_api_and_its_own_folder(deployed, capsys):
    stack, outputs = deployed
    user = client.CognitoUser(
        outputs, "alice@example.com", "Sup3r-secret-pw!", prompt=lambda _question: "123456"
    )
    assert user.sign_up() is True
    assert user.sign_up() is False  # second run: already registered
    tokens = user.sign_in()
    assert user.totp_secret  # the pool requires MFA, so the client enrolled an authenticator
    assert "otpauth://totp/MyTodoList:alice@example.com?secret=" in capsys.readouterr().out
    assert jwt_claims(tokens["IdToken"])["email"] == "alice@example.com"

    handler = stack.function("TodoApi/Handler")
    client.exercise_api(client.TodoApi(outputs.api_url, user.id_token, send=gateway_to(handler)))
    printed = capsys.readouterr().out
    assert printed.count("[ok ]") == 7 and "FAIL" not in printed

    identity_id, credentials = user.aws_credentials()
    assert identity_id.startswith(f"{stack.region}:")
    s3 = boto3.client("s3", region_name=stack.region, **credentials)
    s3.put_object(Bucket=outputs.bucket, Key=f"private/{identity_id}/photo.jpg", Body=b"jpeg")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=outputs.bucket).get("Contents", [])]
    assert keys == [f"private/{identity_id}/photo.jpg"]


class FolderPolicyS3:
    """An S3 client that enforces the template's folder rule the way IAM would (moto does not)."""

    def __init__(self, own_prefix: str, enforce: bool = True) -> None:
        self.own, self.enforce, self.objects = own_prefix, enforce, {}

    def _allow(self, key_or_prefix: str) -> None:
        if self.enforce and not key_or_prefix.startswith(self.own):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "S3")

    def put_object(self, Bucket, Key, Body):
        self._allow(Key)
        self.objects[Key] = Body

    def list_objects_v2(self, Bucket, Prefix):
        self._allow(Prefix)
        return {"Contents": [{"Key": k} for k in self.objects if k.startswith(Prefix)]}

    def get_object(self, Bucket, Key):
        self._allow(Key)
        return {"Body": io.BytesIO(self.objects.get(Key, b""))}

    def delete_object(self, Bucket, Key):
        self._allow(Key)
        self.objects.pop(Key, None)


def test_isolation_check_passes_when_denied_and_fails_loudly_when_allowed(capsys):
    me, other = "us-east-1:11111111-1111-4111-8111-111111111111", "us-east-1:2222"
    assert client.exercise_files(FolderPolicyS3(f"private/{me}/"), me, "bucket", other) is True
    assert capsys.readouterr().out.count("denied (AccessDenied)") == 3
    assert client.exercise_files(FolderPolicyS3("", enforce=False), me, "bucket", other) is False
    assert "ALLOWED" in capsys.readouterr().out
