"""The worker role: long-polls the job queue and writes each result to the shared file system.

A message that is not a valid job is left on the queue: SQS delivers it again until its
receive count reaches the queue's maxReceiveCount, then moves it to the dead-letter queue
where an operator can read it. A valid job is deleted only after its result is written, so a
task stopped mid-job (Spot interruption, scale-in) loses nothing: the message reappears
after the visibility timeout and another task does it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal

import boto3

from sample_app import shared

QUEUE_URL = os.environ["QUEUE_URL"]
SQS = boto3.client("sqs")
LOG = shared.logger("worker")
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_TEXT_CHARS = 4000


class PoisonMessage(ValueError):
    """The message can never succeed; let SQS redrive it to the dead-letter queue."""


def parse(body: str) -> dict:
    try:
        job = json.loads(body)
    except json.JSONDecodeError as err:
        raise PoisonMessage(f"not JSON: {err}") from None
    if not isinstance(job, dict):
        raise PoisonMessage("not a JSON object")
    if not isinstance(job.get("job_id"), str) or not JOB_ID.match(job["job_id"]):
        raise PoisonMessage("job_id missing or not 32 hex characters")
    if not isinstance(job.get("text"), str) or len(job["text"]) > MAX_TEXT_CHARS:
        raise PoisonMessage(f"text missing, not a string or over {MAX_TEXT_CHARS} characters")
    return job


def process(job: dict) -> dict:
    text = job["text"]
    result = {
        "job_id": job["job_id"],
        "words": len(text.split()),
        "characters": len(text),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "submitted_at": job.get("submitted_at"),
        "processed_at": shared.now(),
        "worker": os.environ.get("HOSTNAME", "local"),
    }
    shared.write_json(shared.RESULTS, job["job_id"], result)
    return result


def poll_once(wait_seconds: int = 20) -> tuple[int, int]:
    """One receive of up to 10 messages; returns (done, poison)."""
    response = SQS.receive_message(
        QueueUrl=QUEUE_URL,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    done = poison = 0
    for message in response.get("Messages", []):
        try:
            result = process(parse(message["Body"]))
        except PoisonMessage as err:
            poison += 1
            LOG.error(
                "poison message left for the dead-letter queue",
                extra={
                    "fields": {
                        "message_id": message["MessageId"],
                        "reason": str(err),
                        "receive_count": message.get("Attributes", {}).get(
                            "ApproximateReceiveCount"
                        ),
                    }
                },
            )
            continue
        SQS.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
        done += 1
        LOG.info("job done", extra={"fields": {"job_id": result["job_id"]}})
    return done, poison


class _Stop:
    requested = False


def run() -> None:
    # ECS sends SIGTERM (then SIGKILL after stopTimeout); finish the current batch and exit.
    stop = _Stop()
    signal.signal(signal.SIGTERM, lambda *_: setattr(stop, "requested", True))
    LOG.info("polling", extra={"fields": {"queue": QUEUE_URL}})
    while not stop.requested:
        poll_once()
