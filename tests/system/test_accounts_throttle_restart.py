"""Login throttling survives a server restart (the counters live in the database cache)."""

import httpx

TOKEN = "/api/v1/auth/token/"


def test_login_failures_are_still_throttled_after_a_restart(sqlite_site):
    server = sqlite_site.daphne(THROTTLE_LOGIN="3/min")
    wrong = {"username": "mallory", "password": "guess"}
    for _ in range(3):
        assert httpx.post(server.url + TOKEN, json=wrong, timeout=10).status_code == 400

    server.stop()
    restarted = sqlite_site.daphne(port=server.port, THROTTLE_LOGIN="3/min")

    response = httpx.post(restarted.url + TOKEN, json=wrong, timeout=10)
    assert response.status_code == 429, sqlite_site.logs()
