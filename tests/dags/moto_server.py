"""moto in server mode (``python tests/dags/moto_server.py -p PORT``) with stand-ins for two
things moto 5.2.5 lacks, so the AWS-mode tests see the states they are about:

* Glue ``BatchStopJobRun`` (moto answers 500): the named runs become ``STOPPED``;
* SageMaker training-job states (moto creates every job ``Completed``): a job is
  ``InProgress`` until moto's state manager moves it on (model ``sagemaker::training_job``;
  by default at once, as moto does; a test sets ``manual`` progression to see it run).

Everything else is moto as released.
"""

from __future__ import annotations

import weakref

from moto.core.responses import ActionResult
from moto.glue.responses import GlueResponse
from moto.moto_api import state_manager
from moto.moto_api._internal.managed_state_model import ManagedState
from moto.sagemaker.models import SageMakerModelBackend
from moto.server import main

TRAINING_JOB_MODEL = "sagemaker::training_job"


def batch_stop_job_run(self: GlueResponse) -> ActionResult:
    name, run_ids = self.parameters["JobName"], self.parameters["JobRunIds"]
    runs = {run.job_run_id: run for run in self.glue_backend.get_job(name).job_runs}
    for run_id in run_ids:
        runs[run_id].status = "STOPPED"
    stopped = [{"JobName": name, "JobRunId": run_id} for run_id in run_ids]
    return ActionResult({"SuccessfulSubmissions": stopped, "Errors": []})


class TrainingJobState(ManagedState):
    def __init__(self) -> None:
        super().__init__(TRAINING_JOB_MODEL, [("InProgress", "Completed")])


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_describe = SageMakerModelBackend.describe_training_job


def describe_training_job(self: SageMakerModelBackend, training_job_name: str) -> dict:
    response = _describe(self, training_job_name)
    state = _states.setdefault(self.training_jobs[training_job_name], TrainingJobState())
    state.advance()
    status = state.status
    response["TrainingJobStatus"] = status
    response["SecondaryStatus"] = "Training" if status == "InProgress" else status
    return response


GlueResponse.batch_stop_job_run = batch_stop_job_run
SageMakerModelBackend.describe_training_job = describe_training_job
state_manager.register_default_transition(TRAINING_JOB_MODEL, {"progression": "immediate"})

if __name__ == "__main__":
    main()
