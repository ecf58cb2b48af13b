"""Sign-in throttling across web processes: with Redis as the broker every process counts the
same failures (on the running Redis); without it, each process keeps its own."""

from __future__ import annotations

import subprocess
import sys

import redis
from fastapi.testclient import TestClient

from pipeline.usecases.accounts import add_user
from tests.helpers import REPO, make_services
from tests.web.conftest import PASSWORD, csrf_of, sign_in
from web.app import create_app
from web.throttle import LoginThrottle, RedisLoginThrottle

ADDRESS = "198.51.100.77"


def test_two_web_apps_on_one_redis_share_the_address_throttle(tmp_path, clean_redis):
    svc = make_services(tmp_path, SOHOA_BROKER_URL=clean_redis)
    add_user(svc.store, "lan", "archivist", PASSWORD)
    add_user(svc.store, "minh", "officer", PASSWORD)
    first, second = create_app(svc), create_app(svc)  # as two processes: two throttles
    assert isinstance(first.state.login_throttle, RedisLoginThrottle)
    try:
        client = TestClient(first, client=(ADDRESS, 1))
        token = csrf_of(client.get("/login").text)
        for _ in range(5):  # the free failures, all on the first app
            data = {"login": "lan", "password": "wrong", "csrf_token": token}
            assert client.post("/login", data=data).status_code == 401
        r = sign_in(TestClient(second, client=(ADDRESS, 1)), "lan")
        assert r.status_code == 429 and "from this address" in r.text
        elsewhere = TestClient(second, client=("198.51.100.78", 1))
        r = sign_in(elsewhere, "lan")  # the login's own count is shared too
        assert r.status_code == 429 and "of this login" in r.text
        assert sign_in(elsewhere, "minh").status_code == 303
        keys = b" ".join(redis.Redis.from_url(clean_redis).keys("sohoa:sign-in:*"))
        assert keys and ADDRESS.encode() not in keys and b"lan" not in keys  # hashed keys
    finally:
        svc.close()


def test_counts_from_another_process_make_this_one_wait(clean_redis):
    script = (
        "import sys; from web.throttle import RedisLoginThrottle as T;"
        "t = T(sys.argv[1], 2, 10.0, 900.0); [t.failed('login:minh') for _ in range(3)]"
    )
    subprocess.run([sys.executable, "-c", script, clean_redis], cwd=REPO, check=True)
    here = RedisLoginThrottle(clean_redis, 2, 10.0, 900.0)
    assert 15.0 < here.wait("login:minh") <= 20.0  # third failure: 2 × the first wait
    assert here.failed("login:minh") == 4
    assert 35.0 < here.wait("login:minh") <= 40.0
    here.forget("login:minh")  # a success, or an archivist's unlock
    assert here.wait("login:minh") == 0.0
    assert here.wait("login:someone-else") == 0.0


def test_without_redis_each_process_keeps_its_own_counts(tmp_path):
    svc = make_services(tmp_path)  # the embedded default broker (memory://)
    try:
        assert isinstance(create_app(svc).state.login_throttle, LoginThrottle)
    finally:
        svc.close()


def test_sign_in_goes_on_unthrottled_when_redis_is_down(caplog):
    gone = RedisLoginThrottle("redis://127.0.0.1:1/0", 2, 10.0, 900.0)  # nothing listens
    assert gone.failed("login:lan") == 0 and gone.wait("login:lan") == 0.0
    assert "Redis unavailable" in caplog.text and "lan" not in caplog.text
