"""The processor's Lambda zip (``make package``): reproducible, and complete on its own.

The zip is unpacked beside a bare virtualenv (no packages at all) and its handler is invoked the
way Lambda invokes it, with an SQS event, storing into the emulator's table over HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import platform
import subprocess
import venv
import zipfile
from pathlib import Path

from captionist_dev.package import HANDLER, build
from tests.conftest import LocalAws
from tests.segments import make_segment, stored

# As Lambda does: the unpacked code on sys.path, the handler named by "module.function".
INVOKE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[2])
module, function = sys.argv[1].rsplit(".", 1)
handler = getattr(importlib.import_module(module), function)
print(json.dumps(handler(json.load(sys.stdin), None)))
"""


def sqs_event(*bodies: str) -> dict[str, object]:
    """An SQS event as Lambda's event source mapping builds it."""
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"r{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:captionist-t-segments",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def test_the_package_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    """GIVEN the same lock and code
    WHEN the package is built twice
    THEN the two zips are identical, so a deploy only changes the function when code changes."""
    first = build(tmp_path / "first.zip", "arm64")
    second = build(tmp_path / "second.zip", "arm64")
    assert first == second
    names = zipfile.ZipFile(tmp_path / "first.zip").namelist()
    assert "captionist_processor/handler.py" in names
    assert "captionist_core/segment.py" in names
    assert not any("__pycache__" in name or name.startswith("bin/") for name in names)


def test_the_package_alone_handles_an_sqs_batch(tmp_path: Path, local_aws: LocalAws) -> None:
    """GIVEN the zip unpacked beside a virtualenv with no packages installed
    WHEN its handler gets an SQS event with a segment and a malformed message
    THEN the segment is stored and only the malformed message is reported as failed."""
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    archive = tmp_path / "processor.zip"
    build(archive, arch)
    code = tmp_path / "code"
    zipfile.ZipFile(archive).extractall(code)
    bare = tmp_path / "venv"
    venv.create(bare, with_pip=False)
    segment = make_segment(f"pkg{tmp_path.name[-6:]}", "stored by the packaged handler")
    settings = local_aws.settings
    env = {
        "CAPTIONIST_ENV": settings.env,
        "AWS_ENDPOINT_URL": str(settings.aws_endpoint_url),
        "AWS_REGION": settings.aws_region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    event = sqs_event(segment.model_dump_json(), "{not json")
    done = subprocess.run(
        [str(bare / "bin" / "python"), "-I", "-c", INVOKE, HANDLER, str(code)],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout.strip().splitlines()[-1])
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert [s.id for s in asyncio.run(stored(settings, segment.conversation))] == [segment.id]
