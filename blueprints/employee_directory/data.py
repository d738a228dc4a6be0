"""DirectoryData: the one data model both stacks keep their directory in, and what each operation
of the contract may do with it.

    table (on demand, point-in-time recovery; deletion-protected where the stage keeps data)
        EMPLOYEE#<id> / PROFILE     employees; the `by-name` index (listing, sortName) lists
                                    them in name order
        PHOTO#<id>    / THUMBNAIL   written by the thumbnail function
    photo bucket (KMS, versioned, TLS-only, access-logged)
        uploads/<id>.jpg|png        put by browsers with a pre-signed POST (CORS: the site only)
        thumbnails/<id>.jpg         written by PhotoThumbnails (patterns/events/photo_thumbnails)

`OPERATION_GRANTS` is the least privilege of each operation of openapi.json, one statement per
action: the serverless stack gives each operation's function exactly its own, the classic
stack's instances get their union. The runtime's store.py makes exactly these calls (the wiring
tests run each function under its template role, and removing any one grant fails a test).

The schema is the same in both stacks, so a migration from classic to serverless moves items as
they are (docs/employee-directory.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import secure_bucket
from house.settings import keeps_data
from patterns.events.photo_thumbnails import PhotoThumbnails

NAME_INDEX = "by-name"
UPLOAD_PREFIX = "uploads/"
THUMBNAIL_PREFIX = "thumbnails/"
PAGE_SIZE = 25
UPLOAD_URL_SECONDS = 300
PHOTO_URL_SECONDS = 300
PREFIXES = {"uploads": UPLOAD_PREFIX, "thumbnails": THUMBNAIL_PREFIX}
SELF = "'self'"

# operationId -> (where, action) per statement: "table", "index" (by-name), "uploads" or
# "thumbnails" (objects under that prefix of the photo bucket).
OPERATION_GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "listEmployees": (("index", "dynamodb:Query"),),
    "getEmployee": (("table", "dynamodb:GetItem"),),
    "createEmployee": (("table", "dynamodb:PutItem"),),
    "updateEmployee": (("table", "dynamodb:UpdateItem"),),
    "deleteEmployee": (
        ("table", "dynamodb:DeleteItem"),
        ("uploads", "s3:DeleteObject"),
        ("thumbnails", "s3:DeleteObject"),
    ),
    # The thumbnail record says whether there is a thumbnail to sign a URL for.
    "getEmployeePhoto": (("table", "dynamodb:GetItem"), ("thumbnails", "s3:GetObject")),
    # A pre-signed POST carries the signer's permissions: it can upload what this role may put.
    "requestPhotoUpload": (("table", "dynamodb:GetItem"), ("uploads", "s3:PutObject")),
}


class DirectoryData(Construct):
    """Attributes: table, bucket, photos (PhotoThumbnails), environment (what the runtime
    reads: lambda_src/employee_api/config.py)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        removal_policy: cdk.RemovalPolicy,
        log_retention_days: int,
        access_logs: s3.IBucket,
        max_upload_bytes: int,
        thumbnail_size: int,
    ) -> None:
        super().__init__(scope, id)
        # On demand: a directory is read in bursts and idle most of the day; nothing bills
        # while idle but storage. PITR keeps 35 days of restorable history.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=keeps_data(removal_policy),
            removal_policy=removal_policy,
        )
        # One partition ("EMPLOYEE") sorted by name: a directory's size (thousands) is far
        # below what one index partition serves, and listing needs no scan.
        self.table.add_global_secondary_index(
            index_name=NAME_INDEX,
            partition_key=dynamodb.Attribute(name="listing", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sortName", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.bucket = secure_bucket(
            self, "Photos", removal_policy=removal_policy, access_logs=access_logs
        )
        self.photos = PhotoThumbnails(
            self,
            "Thumbnails",
            bucket=self.bucket,
            table=self.table,
            upload_prefix=UPLOAD_PREFIX,
            thumbnail_prefix=THUMBNAIL_PREFIX,
            thumbnail_size=thumbnail_size,
            max_upload_bytes=max_upload_bytes,
            # Nobody consumes "thumbnail ready" messages here: the photo route reads the record.
            ready_queue=False,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.environment = {
            "TABLE_NAME": self.table.table_name,
            "NAME_INDEX": NAME_INDEX,
            "MEDIA_BUCKET": self.bucket.bucket_name,
            "UPLOAD_PREFIX": UPLOAD_PREFIX,
            "THUMBNAIL_PREFIX": THUMBNAIL_PREFIX,
            "MAX_UPLOAD_BYTES": str(max_upload_bytes),
            "UPLOAD_URL_SECONDS": str(UPLOAD_URL_SECONDS),
            "PHOTO_URL_SECONDS": str(PHOTO_URL_SECONDS),
            "PAGE_SIZE": str(PAGE_SIZE),
        }

    # -- who may do what --------------------------------------------------------------------------

    def resource(self, where: str) -> str:
        return {
            "table": self.table.table_arn,
            "index": f"{self.table.table_arn}/index/{NAME_INDEX}",
            **{name: self.bucket.arn_for_objects(f"{p}*") for name, p in PREFIXES.items()},
        }[where]

    def grant(self, role: iam.IRole, *operation_ids: str) -> None:
        """What these operations need, one statement per action and resource (their union, for a
        role that serves several), and the acknowledgment of the prefix wildcards among them."""
        pairs = list(dict.fromkeys(p for o in operation_ids for p in OPERATION_GRANTS[o]))
        for where, action in pairs:
            # A Sid of its own keeps CDK from merging it with the same action elsewhere (the
            # delete's two prefixes): each grant stays one statement, removable on its own.
            sid = action.split(":")[1] + where.title()
            role.add_to_principal_policy(
                iam.PolicyStatement(sid=sid, actions=[action], resources=[self.resource(where)])
            )
        stack = cdk.Stack.of(self)
        bucket = f"<{stack.get_logical_id(self.bucket.node.default_child)}.Arn>"
        for where in sorted({w for w, _ in pairs if w in PREFIXES}):
            actions = sorted(a for w, a in pairs if w == where)
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{bucket}/{PREFIXES[where]}*]",
                f"{', '.join(actions)} on objects under {PREFIXES[where]} of the photo bucket "
                "only: each photo's key names its employee, known at run time, so the prefix is "
                "the narrowest scope that exists.",
            )

    def allow_uploads_from(self, origins: Sequence[str]) -> None:
        """Browsers on these origins may POST photos to the bucket (CORS for the pre-signed
        POST; the signature, not CORS, is what authorizes an upload)."""
        self.bucket.add_cors_rule(
            allowed_methods=[s3.HttpMethods.POST],
            allowed_origins=list(origins),
            allowed_headers=["*"],
            max_age=3000,
        )

    def bucket_origin(self) -> str:
        """https://<bucket>.s3.<region>.amazonaws.com: where pre-signed URLs point (store.py)."""
        stack = cdk.Stack.of(self)
        return cdk.Fn.join(
            "", ["https://", self.bucket.bucket_name, ".s3.", stack.region, ".", stack.url_suffix]
        )


def content_security_policy(data: DirectoryData, *connect: str) -> str:
    """The site's CSP: everything from its own origin, photos (pre-signed URLs) from the photo
    bucket, uploads to it, and whatever else the front end must call (`connect`)."""
    bucket = data.bucket_origin()
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: {bucket}; font-src 'self'; "
        f"connect-src {' '.join([SELF, bucket, *connect])}; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
