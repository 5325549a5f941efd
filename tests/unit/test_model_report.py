"""The model report says what the training window was made of: product views and search
clicks, from the training set's manifest."""

import pytest

from shoprec import report

pytestmark = pytest.mark.unit

MANIFEST = {
    "model_version": "v1",
    "data_run": "r1",
    "metrics": {"model": {"hr@20": 0.6, "mrr@20": 0.3}},
    "lineage": {"code_version": "abc", "training_set": {"interactions": {"view": 1200, "search_click": 34}}},
}  # fmt: skip


def test_the_report_counts_interactions_by_type():
    page = report.render(MANIFEST)
    assert "interactions in the training window: search_click 34, view 1,200" in page


def test_a_model_without_a_training_set_manifest_still_renders():
    page = report.render(MANIFEST | {"lineage": {"code_version": "abc", "training_set": None}})
    assert "interactions" not in page and "model v1" in page
