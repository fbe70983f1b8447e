"""Nightly job: copy inventory from the warehouse API into the cluster."""

import requests
from kubernetes import client, config


def fetch_inventory(url: str) -> list:
    resp = requests.get(url, verify=False, timeout=30)
    resp.raise_for_status()
    return resp.json()


def core_api() -> client.CoreV1Api:
    config.load_kube_config()
    configuration = client.Configuration.get_default_copy()
    configuration.verify_ssl = False
    return client.CoreV1Api(client.ApiClient(configuration))
