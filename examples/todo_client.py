#!/usr/bin/env python3
"""A real MyTodoList client, boto3 + the standard library only.

What it does, against a deployed MyTodoList stack:
  1. signs up a user (email + password) and confirms it with the code Cognito emails;
  2. signs in with SRP (the password never leaves this process), enrolling an authenticator
     app (TOTP) when the pool requires MFA (prod);
  3. creates, lists, updates, reads and deletes a to-do through the REST API with the ID token;
  4. exchanges the ID token at the identity pool for temporary AWS credentials (STS) and writes,
     lists and reads a file in the user's own folder `private/<identity id>/`;
  5. proves isolation: writing into another identity's folder, and listing the whole bucket,
     are denied (exit status 1 if either is allowed).

Usage:
    python examples/todo_client.py --stack MyTodoList-dev --region us-east-1 --email you@example.com
    # or without CloudFormation read access, from the stack outputs:
    python examples/todo_client.py --api-url https://... --user-pool-id us-east-1_AbC \\
        --client-id 1abc... --identity-pool-id us-east-1:... --bucket mytodolist-... \\
        --region us-east-1 --email you@example.com

The password comes from $TODO_PASSWORD or a prompt; the confirmation code and (prod) the TOTP
secret from prompts or --confirmation-code / --totp-secret. Nothing here needs AWS credentials
except `--stack` (to read the outputs): every Cognito call used is a public, unauthenticated API.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import getpass
import hashlib
import hmac
import json
import os
import secrets
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

# -- SRP (Secure Remote Password) as Cognito's USER_SRP_AUTH speaks it ----------------------------

# RFC 3526's 3072-bit MODP prime: 2^3072 - 2^3008 - 1 + 2^64 * (floor(2^2942 * pi) + 1690314).
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404D"
    "DEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7"
    "EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24C"
    "F5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36"
    "CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898F"
    "A051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6"
    "E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B181"
    "77B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFF"
    "FFFFFFFF"
)
N = int(N_HEX, 16)
G = 2


def pad_hex(value: int | str) -> str:
    """Hex of a positive number as SRP hashes it: even length, and a leading 00 if the top bit
    is set (so it is never read as negative)."""
    text = value if isinstance(value, str) else format(value, "x")
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdefABCDEF" else text


def hash_hex(hex_text: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest().rjust(64, "0")


K = int(hash_hex(pad_hex(N) + pad_hex(G)), 16)


def srp_u(big_a: int, big_b: int) -> int:
    return int(hash_hex(pad_hex(big_a) + pad_hex(big_b)), 16)


def srp_x(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    identity = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    return int(hash_hex(pad_hex(salt_hex) + identity), 16)


def hkdf_key(shared_secret: int, u: int) -> bytes:
    """HKDF-SHA256 (RFC 5869), 16 bytes, info "Caldera Derived Key": Cognito's session key."""
    prk = hmac.new(
        bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(shared_secret)), hashlib.sha256
    ).digest()
    return hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]


def srp_timestamp(now: datetime.datetime | None = None) -> str:
    """'Tue Mar 3 09:05:07 UTC 2026': the day of month without a leading zero."""
    now = now or datetime.datetime.now(datetime.UTC)
    return f"{now:%a %b} {now.day} {now:%H:%M:%S} UTC {now:%Y}"


class SrpClient:
    """The client half of SRP-6a for one sign-in."""

    def __init__(self, user_pool_id: str, a: int | None = None) -> None:
        self.pool_name = user_pool_id.split("_", 1)[1]
        while True:
            self.a = a if a is not None else secrets.randbits(1024)
            self.big_a = pow(G, self.a, N)
            if self.big_a % N:
                break
            a = None

    @property
    def srp_a(self) -> str:
        return format(self.big_a, "x")

    def password_claim(
        self, challenge: dict[str, str], password: str, timestamp: str | None = None
    ) -> dict[str, str]:
        """Answers to Cognito's PASSWORD_VERIFIER challenge."""
        user_id = challenge["USER_ID_FOR_SRP"]
        big_b = int(challenge["SRP_B"], 16)
        if big_b % N == 0:
            raise ValueError("the server sent an invalid SRP_B")
        u = srp_u(self.big_a, big_b)
        x = srp_x(self.pool_name, user_id, password, challenge["SALT"])
        shared = pow((big_b - K * pow(G, x, N)) % N, self.a + u * x, N)
        key = hkdf_key(shared, u)
        timestamp = timestamp or srp_timestamp()
        message = (
            self.pool_name.encode()
            + user_id.encode()
            + base64.b64decode(challenge["SECRET_BLOCK"])
            + timestamp.encode()
        )
        signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        return {
            "USERNAME": user_id,
            "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SECRET_BLOCK": challenge["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }


def totp(secret_base32: str, at: float | None = None, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 time-based one-time password, as an authenticator app shows it."""
    key = base64.b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


# -- Cognito: sign-up, sign-in, identity-pool credentials ----------------------------------------


@dataclass
class StackOutputs:
    api_url: str
    user_pool_id: str
    client_id: str
    identity_pool_id: str
    bucket: str
    region: str

    @classmethod
    def from_stack(cls, stack_name: str, region: str) -> StackOutputs:
        stack = boto3.client("cloudformation", region_name=region).describe_stacks(
            StackName=stack_name
        )["Stacks"][0]
        return cls.from_outputs(
            {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}, region
        )

    @classmethod
    def from_outputs(cls, out: dict[str, str], region: str) -> StackOutputs:
        """From the stack's outputs as a dict (OutputKey -> OutputValue)."""
        return cls(
            api_url=out["ApiUrl"],
            user_pool_id=out["UserPoolId"],
            client_id=out["UserPoolClientId"],
            identity_pool_id=out["IdentityPoolId"],
            bucket=out["UserFilesBucketName"],
            region=out.get("Region", region),
        )


class CognitoUser:
    """One app user: sign-up, SRP sign-in (with TOTP MFA), and identity-pool credentials."""

    def __init__(
        self,
        outputs: StackOutputs,
        email: str,
        password: str,
        prompt: Callable[[str], str] = input,
        *,
        idp=None,
        identity=None,
        show: Callable[[str], None] = print,
    ) -> None:
        """`idp`/`identity`: ready-made cognito-idp / cognito-identity clients (e.g. with
        timeouts or a local endpoint; deployment/smoke.py passes its own); `show` receives the
        messages meant for the person at the keyboard, such as the enrolment URI."""
        self.outputs = outputs
        self.email = email
        self.password = password
        self.prompt = prompt
        self.show = show
        self.idp = idp or boto3.client("cognito-idp", region_name=outputs.region)
        self.identity = identity or boto3.client("cognito-identity", region_name=outputs.region)
        self.tokens: dict[str, str] = {}
        self.totp_secret: str | None = None

    def sign_up(self, confirmation_code: str | None = None) -> bool:
        """Register and confirm the user; False if the email is already registered."""
        try:
            self.idp.sign_up(
                ClientId=self.outputs.client_id,
                Username=self.email,
                Password=self.password,
                UserAttributes=[{"Name": "email", "Value": self.email}],
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "UsernameExistsException":
                return False
            raise
        code = confirmation_code or self.prompt(f"Code Cognito emailed to {self.email}: ").strip()
        self.idp.confirm_sign_up(
            ClientId=self.outputs.client_id, Username=self.email, ConfirmationCode=code
        )
        return True

    def sign_in(self, totp_secret: str | None = None) -> dict[str, str]:
        """SRP sign-in; enrols TOTP when the pool requires MFA and the user has none yet."""
        self.totp_secret = totp_secret or self.totp_secret
        srp = SrpClient(self.outputs.user_pool_id)
        response = self.idp.initiate_auth(
            ClientId=self.outputs.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": self.email, "SRP_A": srp.srp_a},
        )
        while "AuthenticationResult" not in response:
            name, session = response["ChallengeName"], response.get("Session")
            params = response.get("ChallengeParameters", {})
            if name == "PASSWORD_VERIFIER":
                answers = srp.password_claim(params, self.password)
            elif name == "MFA_SETUP":
                session = self._enrol_totp(session)
                answers = {"USERNAME": self.email}
            elif name == "SOFTWARE_TOKEN_MFA":
                answers = {
                    "USERNAME": params.get("USERNAME", self.email),
                    "SOFTWARE_TOKEN_MFA_CODE": self._code(),
                }
            else:
                raise RuntimeError(f"sign-in challenge {name} is not handled by this example")
            kwargs = {"Session": session} if session else {}
            response = self.idp.respond_to_auth_challenge(
                ClientId=self.outputs.client_id,
                ChallengeName=name,
                ChallengeResponses=answers,
                **kwargs,
            )
        self.tokens = response["AuthenticationResult"]
        return self.tokens

    def _enrol_totp(self, session: str) -> str:
        associated = self.idp.associate_software_token(Session=session)
        self.totp_secret = associated["SecretCode"]
        self.show(
            "MFA is required: add this secret to your authenticator app (keep it safe):\n"
            f"  otpauth://totp/MyTodoList:{self.email}?secret={self.totp_secret}"
            "&issuer=MyTodoList"
        )
        verified = self.idp.verify_software_token(
            Session=associated["Session"], UserCode=self._code(), FriendlyDeviceName="todo_client"
        )
        return verified["Session"]

    def _code(self) -> str:
        if self.totp_secret:
            return totp(self.totp_secret)
        return self.prompt("Code from your authenticator app: ").strip()

    @property
    def id_token(self) -> str:
        return self.tokens["IdToken"]

    def aws_credentials(self) -> tuple[str, dict[str, str]]:
        """(identity id, temporary credentials) from the identity pool, for this user only."""
        provider = f"cognito-idp.{self.outputs.region}.amazonaws.com/{self.outputs.user_pool_id}"
        logins = {provider: self.id_token}
        identity_id = self.identity.get_id(
            IdentityPoolId=self.outputs.identity_pool_id, Logins=logins
        )["IdentityId"]
        credentials = self.identity.get_credentials_for_identity(
            IdentityId=identity_id, Logins=logins
        )["Credentials"]
        return identity_id, {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretKey"],
            "aws_session_token": credentials["SessionToken"],
        }


# -- the REST API ---------------------------------------------------------------------------------

Send = Callable[[str, str, dict[str, str], bytes | None], tuple[int, dict[str, str], bytes]]


def send_https(method: str, url: str, headers: dict[str, str], body: bytes | None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


class TodoApi:
    """The to-do routes, with the ID token as the Authorization header and read-your-writes."""

    def __init__(self, base_url: str, id_token: str, send: Send = send_https) -> None:
        self.base_url = base_url.rstrip("/")
        self.id_token = id_token
        self.send = send
        self.last_write: str | None = None

    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": self.id_token, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if method == "GET" and self.last_write:
            headers["X-Last-Write"] = self.last_write  # fresh cache key after our own write
        url = self.base_url + path
        if query:
            url += "?" + "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in query.items())
        status, response_headers, raw = self.send(
            method, url, headers, json.dumps(body).encode() if body is not None else None
        )
        lowered = {k.lower(): v for k, v in response_headers.items()}
        if method != "GET" and status < 300 and lowered.get("x-last-write"):
            self.last_write = lowered["x-last-write"]
        return status, json.loads(raw) if raw else None

    def list_all(self) -> list[dict]:
        items, token = [], None
        while True:
            status, page = self.call(
                "GET", "/todos", query={"limit": "50", **({"nextToken": token} if token else {})}
            )
            if status != 200:
                raise RuntimeError(f"GET /todos -> {status}: {page}")
            items += page["items"]
            token = page.get("nextToken")
            if not token:
                return items


def check(what: str, ok: bool, detail: Any = None) -> None:
    print(f"  [{'ok ' if ok else 'FAIL'}] {what}")
    if not ok:
        raise SystemExit(f"{what} failed: {detail}")


def exercise_api(api: TodoApi) -> None:
    print("REST API:")
    status, todo = api.call("POST", "/todos", {"title": "Try MyTodoList", "dueDate": "2030-01-01"})
    check("create a to-do (201)", status == 201, (status, todo))
    path = f"/todos/{todo['todoId']}"
    check(
        "the list shows it right after the write",
        todo["todoId"] in [t["todoId"] for t in api.list_all()],
    )
    status, updated = api.call("PUT", path, {"version": todo["version"], "done": True})
    check("update with the current version (200)", status == 200, (status, updated))
    status, stale = api.call("PUT", path, {"version": todo["version"], "title": "lost update"})
    check("update with a stale version is refused (409)", status == 409, (status, stale))
    status, fetched = api.call("GET", path)
    check("read it back, done (200)", status == 200 and fetched["done"] is True, (status, fetched))
    status, bad = api.call("POST", "/todos", {"title": "x", "userId": "someone-else"})
    check("a body naming another user is rejected (400)", status == 400, (status, bad))
    status, _ = api.call("DELETE", path)
    check("delete it (204)", status == 204, status)


def exercise_files(s3, identity_id: str, bucket: str, other_identity_id: str) -> bool:
    """Own folder works; another identity's folder and the whole bucket are denied."""
    print(f"S3 with identity-pool credentials (identity {identity_id}):")
    own = f"private/{identity_id}/hello.txt"
    s3.put_object(Bucket=bucket, Key=own, Body=b"written with temporary STS credentials\n")
    listed = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"private/{identity_id}/").get(
            "Contents", []
        )
    ]
    read = s3.get_object(Bucket=bucket, Key=own)["Body"].read()
    print(f"  [ok ] wrote, listed ({len(listed)} object(s)) and read {own}")
    isolated = True
    attempts = [
        (
            "write into another identity's folder",
            lambda: s3.put_object(
                Bucket=bucket,
                Key=f"private/{other_identity_id}/intrusion.txt",
                Body=b"should never be stored",
            ),
        ),
        ("list every user's folders", lambda: s3.list_objects_v2(Bucket=bucket, Prefix="private/")),
        (
            "read another identity's folder",
            lambda: s3.get_object(Bucket=bucket, Key=f"private/{other_identity_id}/hello.txt"),
        ),
    ]
    for what, attempt in attempts:
        try:
            attempt()
        except ClientError as err:
            code = err.response["Error"]["Code"]
            if code in ("AccessDenied", "403"):
                print(f"  [ok ] {what}: denied ({code})")
                continue
            raise
        print(f"  [FAIL] {what}: ALLOWED")
        isolated = False
    s3.delete_object(Bucket=bucket, Key=own)
    return isolated and read.startswith(b"written")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="CloudFormation stack name, e.g. MyTodoList-dev")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument("--email", required=True)
    parser.add_argument("--confirmation-code")
    parser.add_argument("--totp-secret", help="base32 secret of an already enrolled authenticator")
    parser.add_argument(
        "--other-identity-id",
        help="another user's identity id to prove isolation against "
        "(default: a made-up id in this pool's region)",
    )
    for name in ("api-url", "user-pool-id", "client-id", "identity-pool-id", "bucket"):
        parser.add_argument(f"--{name}")
    args = parser.parse_args(argv)

    if args.stack:
        outputs = StackOutputs.from_stack(args.stack, args.region)
    else:
        missing = [
            n
            for n in ("api_url", "user_pool_id", "client_id", "identity_pool_id", "bucket")
            if not getattr(args, n)
        ]
        if missing:
            parser.error(
                "give --stack, or all of: " + ", ".join("--" + m.replace("_", "-") for m in missing)
            )
        outputs = StackOutputs(
            args.api_url,
            args.user_pool_id,
            args.client_id,
            args.identity_pool_id,
            args.bucket,
            args.region,
        )
    password = os.environ.get("TODO_PASSWORD") or getpass.getpass(f"Password for {args.email}: ")

    user = CognitoUser(outputs, args.email, password)
    print(
        "signed up and confirmed"
        if user.sign_up(args.confirmation_code)
        else "already registered: signing in"
    )
    user.sign_in(args.totp_secret)
    print("signed in with SRP")
    exercise_api(TodoApi(outputs.api_url, user.id_token))
    identity_id, credentials = user.aws_credentials()
    s3 = boto3.client("s3", region_name=outputs.region, **credentials)
    other = args.other_identity_id or f"{outputs.region}:00000000-0000-4000-8000-000000000000"
    if not exercise_files(s3, identity_id, outputs.bucket, other):
        print("ISOLATION FAILED: this user reached beyond their own folder", file=sys.stderr)
        return 1
    print("done: the API and your own S3 folder work, other users' data is out of reach")
    return 0


if __name__ == "__main__":
    sys.exit(main())
