"""The DAG's tasks: built at parse time for the backend the Airflow options name.

``pipeline`` gives the DAG its arguments and tasks; ``local`` runs each stage on the local
stand-in cloud, ``aws`` builds the Amazon provider's operators on what CDK deployed
(``operators``: the behaviours the provider lacks; ``training_job``: the SDK-rendered
training request). ``permissions`` lists the AWS calls of AWS mode; it imports no Airflow,
so the CDK tests read it too.
"""
