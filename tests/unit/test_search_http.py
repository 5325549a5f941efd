"""Requests to an Amazon OpenSearch Service domain carry a SigV4 signature."""

import urllib.request

import pytest

from shoprec.search.http import sigv4

pytestmark = pytest.mark.unit


def test_requests_to_an_aws_domain_are_signed_with_sigv4(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    request = urllib.request.Request(
        "https://search-shop.us-east-1.es.amazonaws.com/ubi_queries/_search",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    sigv4("us-east-1")(request)
    authorization = request.get_header("Authorization")
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/es/aws4_request" in authorization and request.get_header("X-amz-date")
