"""JsonStore reads as S3 answers them with prefix-scoped list permission (botocore Stubber):
a missing document reads as 403 AccessDenied, which the store confirms as absence by listing."""

import io
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from shoprec.ingest.store import JsonStore

KEY = "analytics/models/champion.json"


@pytest.fixture
def stubbed():
    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(s3) as stubber:
        yield JsonStore(s3, "lake", "analytics/models/"), stubber


def _denied(stubber: Stubber) -> None:
    stubber.add_client_error(
        "get_object", "AccessDenied", "Access Denied", 403, {"Bucket": "lake", "Key": KEY}
    )


def test_a_403_on_a_key_that_is_not_listed_reads_as_absent(stubbed):
    store, stubber = stubbed
    _denied(stubber)
    stubber.add_response(
        "list_objects_v2", {"KeyCount": 0}, {"Bucket": "lake", "Prefix": KEY, "MaxKeys": 1}
    )
    assert store.get("champion.json") is None
    stubber.assert_no_pending_responses()


def test_a_403_on_a_key_that_exists_is_raised(stubbed):
    store, stubber = stubbed
    _denied(stubber)
    stubber.add_response(
        "list_objects_v2",
        {"KeyCount": 1, "Contents": [{"Key": KEY}]},
        {"Bucket": "lake", "Prefix": KEY, "MaxKeys": 1},
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        store.get("champion.json")


def test_a_document_reads_with_its_etag(stubbed):
    store, stubber = stubbed
    body = json.dumps({"version": "v1"}).encode()
    stubber.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(body), len(body)), "ETag": '"e1"'},
        {"Bucket": "lake", "Key": KEY},
    )
    document = store.get("champion.json")
    assert (document.body, document.etag) == ({"version": "v1"}, '"e1"')
