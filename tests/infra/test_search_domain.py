"""The shop's OpenSearch domain is private and encrypted; its collector reads only the UBI
indices (with a PIT), signs with its role, and is what the DAG's collect step invokes."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow]


def test_domain_is_in_the_vpc_encrypted_https_only_with_logs(dev):
    (domain,) = dev.resources("AWS::OpenSearchService::Domain")
    props = domain["Properties"]
    assert props["EngineVersion"] == "OpenSearch_2.19"
    assert props["VPCOptions"]["SubnetIds"] and props["VPCOptions"]["SecurityGroupIds"]
    assert props["EncryptionAtRestOptions"]["Enabled"] is True
    assert props["NodeToNodeEncryptionOptions"]["Enabled"] is True
    assert props["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert {"SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS"} <= set(props["LogPublishingOptions"])
    assert "AccessPolicies" not in props  # IAM identity policies only


def test_ubi_collector_reads_only_the_ubi_indices_and_signs_with_its_role(dev):
    functions = dev.resources("AWS::Lambda::Function")
    (collector,) = [
        f for f in functions if "opensearch-collector" in str(f["Properties"].get("FunctionName"))
    ]
    env = collector["Properties"]["Environment"]["Variables"]
    assert (env["SHOPREC_SOURCE"], env["SHOPREC_OPENSEARCH_AUTH"]) == ("opensearch", "iam")
    assert collector["Properties"]["VpcConfig"]["SubnetIds"]
    statements = [
        s
        for p in dev.resources("AWS::IAM::Policy")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if any(str(a).startswith("es:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
    ]  # fmt: skip
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}  # fmt: skip
    assert actions == {"es:ESHttpGet", "es:ESHttpPost", "es:ESHttpDelete"}
    resources = json.dumps([s["Resource"] for s in statements])
    for path in ("/ubi_queries", "/ubi_events", "/_search", "/_search/point_in_time"):
        assert path in resources
    assert '"/*"' not in resources  # never the whole domain


def test_mwaa_may_invoke_the_ubi_collector(prod):
    orchestration = json.dumps(prod.template("orchestration"))
    assert "OpensearchCollector" in orchestration
