"""The network pack (NET): HTTP client timeouts, gRPC load balancing on
Kubernetes and Prometheus Pushgateway grouping.

Each rule keeps its shared metadata in one module (``http_timeout.py``,
``grpc_balancing.py``, ``pushgateway.py``) and one check per backend next to
it (``*_go.py`` on tree-sitter, ``*_py.py`` on libcst).
"""
