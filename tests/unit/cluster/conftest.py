"""Fixtures for the local cluster's unit tests."""

import pytest
from clusterhelpers import DemoApp


@pytest.fixture
def demo_app():
    """demo_app(**env) starts the demo app and waits until it listens (unless wait=False)."""
    apps = []

    def start(wait=True, **env):
        app = DemoApp(env)
        apps.append(app)
        if wait:
            app.wait_log("listening on")
        return app

    yield start
    for app in apps:
        app.stop()
