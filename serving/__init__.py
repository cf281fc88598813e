"""mlstack's serving image: an inference server for the SageMaker hosting contract and
Kubernetes. Start it with ``python -m serving serve``; settings are environment variables
(:mod:`serving.settings`). Independent of the Pulumi program: imports nothing from infra.
"""
