"""The training job's request template is what the SageMaker SDK renders (``sdk`` venv): a
change of the SDK pin or of the estimator's settings that is not rendered again fails here."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.sdk
RENDERER = Path(__file__).parents[2] / "sagemaker" / "training_job.py"


def test_the_committed_template_is_what_the_sdk_renders(monkeypatch):
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    spec = importlib.util.spec_from_file_location("render_training_job", RENDERER)
    renderer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(renderer)
    assert renderer.text() == renderer.TEMPLATE.read_text()
