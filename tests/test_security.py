"""Security and reliability hardening (issue 10): brute-force lockout, API throttles, no-store, CSP,
HTTPS settings, bounded request bodies, honest error pages, 400 for malformed input, one-line 403s."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from django.urls import NoReverseMatch, reverse

from organisations.demo import DEMO_PASSWORD

LOGIN = "/accounts/login/"


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


# --- 6. Brute force --------------------------------------------------------------------------------

def test_ten_wrong_passwords_lock_the_user_even_with_the_right_one(client, personas, settings):
    user = personas.users.obstetrician_a
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, user.username, "wrong-password").status_code == 200
    locked = attempt(client, user.username, "wrong-password")
    assert locked.status_code == 429
    right = attempt(client, user.username, personas.password, ip="10.0.0.2")  # another computer too
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    page = right.content.decode()
    assert 'data-testid="lockout"' in page and "登录失败次数过多" in page and "15 分钟" in page
    assert 'name="username"' in page  # the login form is still there, with the reason above it


def test_one_address_trying_many_users_is_locked(client, personas, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess{n}", "wrong-password", ip="10.9.9.9")
    assert attempt(client, personas.users.mch_a.username, personas.password, ip="10.9.9.9").status_code == 429
    # Another address signs in as usual.
    assert attempt(client, personas.users.mch_a.username, personas.password, ip="10.9.9.8").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client, personas, settings):
    user = personas.users.primary_a
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, user.username, "wrong-password")
    assert attempt(client, user.username, personas.password).status_code == 302
    client.logout()
    assert attempt(client, user.username, "wrong-password").status_code == 200  # not locked


def test_lockout_settings_come_from_the_environment(settings):
    assert (settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_MINUTES) == (10, 15)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def forget_throttle(ident: str, scope: str) -> None:
    """Start from no history: the cache outlives a test (and, with Redis, a run)."""
    from django.core.cache import cache

    cache.delete(f"throttle_{scope}_{ident}")


def test_api_throttles_anonymous_callers(client, db, settings):
    forget_throttle("10.7.7.7", "anon")
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"]
    allowed = int(rate.split("/")[0])
    statuses = [client.get("/api/docs/", REMOTE_ADDR="10.7.7.7").status_code for _ in range(allowed + 1)]
    assert statuses[:allowed] == [200] * allowed and statuses[-1] == 429


def test_api_throttles_signed_in_users(client, personas, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "5/minute", "anon": "5/minute"})
    forget_throttle(str(personas.users.obstetrician_a.pk), "user")
    client.force_login(personas.users.obstetrician_a)
    statuses = [client.get("/api/me/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert "detail" in client.get("/api/me/").json()


# --- 9. no-store, CSP, HTTPS -----------------------------------------------------------------------

def test_every_page_api_answer_and_export_is_no_store(client, personas):
    assert "no-store" in client.get(LOGIN)["Cache-Control"]
    client.force_login(personas.users.mch_a)
    for url in ("/", reverse("cases:index") + "?q=张", "/api/me/", reverse("highrisk:register") + "?export=xlsx",
                "/alerts/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    static = client.get("/static/anmu/anmu.css")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")


def test_pages_carry_a_content_security_policy_with_a_nonce(client, personas):
    client.force_login(personas.users.obstetrician_a)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src "))
    assert "'unsafe-inline'" not in script_src and "'nonce-" in script_src
    nonce = script_src.split("'nonce-")[1].split("'")[0]
    page = response.content.decode()
    assert f'<meta name="csp-nonce" content="{nonce}">' in page  # for Turbo's progress bar
    assert "<style" not in page and "/static/anmu/theme.css" in page  # viewflow's theme colours


def test_swagger_ui_has_no_inline_script(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page and "SwaggerUIBundle(" not in page
    assert client.get("/api/docs/?script=").status_code == 200


def test_https_settings_are_off_by_default(settings):
    assert settings.SECURE_SSL_REDIRECT is False and settings.SECURE_HSTS_SECONDS == 0
    assert settings.SECURE_PROXY_SSL_HEADER is None


# --- 10. Request bodies ----------------------------------------------------------------------------

class _Recorder:
    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.read = 0
        self.sent = []

    async def receive(self):
        if not self.chunks:
            await asyncio.sleep(3600)
        body, more = self.chunks.pop(0)
        self.read += len(body)
        return {"type": "http.request", "body": body, "more_body": more}

    async def send(self, message):
        self.sent.append(message)


def _scope(path, headers):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": headers, "client": ("10.0.0.1", 5000), "server": ("127.0.0.1", 8000)}


def _run(app, scope, recorder):
    asyncio.run(asyncio.wait_for(app(scope, recorder.receive, recorder.send), 30))
    start = next(m for m in recorder.sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in recorder.sent if m["type"] == "http.response.body")
    return start["status"], body.decode()


@pytest.mark.django_db(transaction=True)
def test_a_body_above_the_limit_is_refused_before_it_is_read(settings):
    from project.asgi import application

    declared = 200 * 1024 * 1024
    recorder = _Recorder([(b"x" * 65536, True)] * 10)
    status, body = _run(application, _scope("/accounts/login/", [
        (b"host", b"127.0.0.1"), (b"content-type", b"application/octet-stream"),
        (b"content-length", str(declared).encode())]), recorder)
    assert status == 413 and recorder.read == 0
    assert f"最多只能发送 {settings.REQUEST_MAX_BODY_BYTES // (1024 * 1024)} MB" in body


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_stops_being_read_at_the_limit(settings):
    from project.asgi import application

    settings.REQUEST_MAX_BODY_BYTES = 1024 * 1024
    chunk = b"x" * 65536
    recorder = _Recorder([(chunk, True)] * 100)
    status, body = _run(application, _scope("/api/risk/evaluate/", [
        (b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
        (b"transfer-encoding", b"chunked")]), recorder)
    assert status == 413 and "detail" in body
    assert recorder.read <= settings.REQUEST_MAX_BODY_BYTES + len(chunk)


@pytest.mark.django_db(transaction=True)
def test_a_body_within_the_limit_reaches_django(settings):
    from project.asgi import application

    recorder = _Recorder([(b"username=a&password=b", False)])
    status, _ = _run(application, _scope("/accounts/login/", [
        (b"host", b"127.0.0.1"), (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", b"21")]), recorder)
    assert status == 403  # reached Django: the CSRF check refuses it


def test_the_default_limit_is_the_largest_attachment_plus_the_form(settings):
    assert settings.REQUEST_MAX_BODY_BYTES == settings.REFERRAL_ATTACHMENT_MAX_BYTES + 1024 * 1024


# --- 11. Honest error pages, no reset without e-mail ------------------------------------------------

def test_the_500_page_says_only_what_is_true(rf):
    from django.views.defaults import server_error

    page = server_error(rf.get("/")).content.decode()
    assert "服务器日志" in page
    assert "邮件" not in page and "email" not in page.lower() and "administrators via" not in page


def test_no_password_reset_without_email(client, db, settings):
    assert settings.EMAIL_CONFIGURED is False
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")
    assert client.get("/accounts/password_reset/").status_code == 404
    page = client.get(LOGIN).content.decode()
    assert "password_reset" not in page and 'data-testid="password-reset"' not in page
    assert reverse("password_change")  # changing one's own password stays


def test_password_reset_pages_exist_when_email_is_configured(settings):
    from project.auth import AnmuAuthViewset

    settings.EMAIL_CONFIGURED = True
    viewset = AnmuAuthViewset()
    paths = [viewset.pass_reset_path, viewset.pass_reset_done_path, viewset.pass_reset_confirm_path,
             viewset.pass_reset_complete_path]
    assert [p.name for p in paths] == ["password_reset", "password_reset_done", "password_reset_confirm",
                                       "password_reset_complete"]
    settings.EMAIL_CONFIGURED = False
    assert viewset.pass_reset_path is None


# --- 12. Malformed input is a 400 -------------------------------------------------------------------

def test_deeply_nested_json_is_a_400(client, personas):
    client.force_login(personas.users.obstetrician_a)
    for body in ("[" * 1000 + "]" * 1000, "[" * 100000):
        response = client.post("/api/risk/evaluate/", body, content_type="application/json")
        assert response.status_code == 400, body[:5]
        assert response["Content-Type"].startswith("application/json") and "detail" in response.json()


def test_nul_in_the_risk_ruleset_is_a_400(client, personas):
    client.force_login(personas.users.obstetrician_a)
    response = client.post("/api/risk/evaluate/", '{"ruleset": "national\\u0000"}', content_type="application/json")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


@pytest.mark.parametrize("url", ["cases:index", "highrisk:register", "alerts:index"])
def test_nul_in_a_search_or_filter_is_a_400(client, personas, url):
    client.force_login(personas.users.mch_a)
    for query in ("?q=%00", "?colour=red%00&name=x", "?state=%00&kind=a"):
        response = client.get(reverse(url) + query)
        assert response.status_code == 400, (url, query)
        assert "NUL" in response.content.decode()


def test_nul_in_an_api_filter_is_a_json_400(client, personas):
    client.force_login(personas.users.mch_a)
    response = client.get("/api/referrals/?state=%00")
    assert response.status_code == 400 and "detail" in response.json()


# --- 13. A denial is one log line ------------------------------------------------------------------

def test_a_403_is_logged_as_one_line_with_user_path_and_reason(client, personas):
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console")
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        client.force_login(personas.users.obstetrician_a)
        assert client.get(reverse("organisations:access_log")).status_code == 403
    finally:
        handler.setStream(old)
    assert "Traceback" not in stream.getvalue()
    lines = [line for line in stream.getvalue().splitlines() if "access-log" in line]
    assert len(lines) == 1, lines
    assert "user=obstetrician_a" in lines[0] and "path=/organisations/access-log/" in lines[0]
    assert "只有妇幼保健管理人员" in lines[0]


def test_tracebacks_are_masked_too():
    from organisations.logging import MaskPersonalDataFilter

    try:
        raise ValueError("woman 350121199001010018 phone 13812345678")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    MaskPersonalDataFilter().filter(record)
    assert "350121199001010018" not in record.exc_text and "13812345678" not in record.exc_text
    assert "350121********0018" in record.exc_text and "138****5678" in record.exc_text


def test_demo_password_still_signs_in(client, db):
    from organisations.demo import seed_organisations

    seed_organisations()
    assert attempt(client, "minhou_obstetrician", DEMO_PASSWORD).status_code == 302


def test_celery_worker_handlers_are_masked_too():
    from celery.signals import after_setup_logger

    import project.celery  # noqa: F401  (connects the signal)
    from organisations.logging import MaskPersonalDataFilter

    handler = logging.StreamHandler(io.StringIO())  # as a worker's root handler would be
    logging.getLogger().addHandler(handler)
    try:
        after_setup_logger.send(sender=None, logger=logging.getLogger(), loglevel=logging.INFO, logfile=None,
                                format="", colorize=False)
        logging.getLogger("anmu.test").warning("SMS to %s", "13812345678")
    finally:
        logging.getLogger().removeHandler(handler)
    assert any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters)
    assert "138****5678" in handler.stream.getvalue() and "13812345678" not in handler.stream.getvalue()


def test_nul_in_a_plain_form_post_is_a_400(client, personas):
    client.force_login(personas.users.duty_a)
    response = client.post("/", "icu=1%00&delivery=2", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_lockout_parameters_are_checked_at_start():
    from tests.test_settings import run_settings

    result = run_settings(SECRET_KEY="x" * 50, AXES_LOCKOUT_PARAMETERS="password")
    assert result.returncode != 0 and "AXES_LOCKOUT_PARAMETERS" in result.stderr.splitlines()[-1]
    assert run_settings(SECRET_KEY="x" * 50, AXES_LOCKOUT_PARAMETERS="username").returncode == 0
