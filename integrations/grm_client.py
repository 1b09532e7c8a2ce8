"""The one HTTP call the framework wrappers share: POST JSON to `grm serve` (stdlib only).

GRM_URL (default http://127.0.0.1:8080) is the server; GRM_API_KEY, when set, is sent as the
bearer token (grm serve --api-key). A 4xx/5xx becomes a RuntimeError carrying grm's error code and
message, so a wrong label fails the training step with the field named instead of a silent 0.
"""
import json
import os
import urllib.error
import urllib.request


def grm_url():
    return os.environ.get("GRM_URL", "http://127.0.0.1:8080").rstrip("/")


def post(path, body, timeout=600):
    headers = {"Content-Type": "application/json"}
    if os.environ.get("GRM_API_KEY"):
        headers["Authorization"] = "Bearer " + os.environ["GRM_API_KEY"]
    req = urllib.request.Request(grm_url() + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        try:
            err = json.loads(detail)["error"]
            detail = f"{err['code']}: {err['message']}"
        except (ValueError, KeyError, TypeError):
            pass
        raise RuntimeError(f"grm {path}: HTTP {e.code}: {detail}") from None
