"""Kubernetes client rules (K8S): client-go, controller-runtime and the Python
``kubernetes`` client."""
