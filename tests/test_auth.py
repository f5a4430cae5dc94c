"""Login, throttling, CSRF, security headers, sessions."""

from conftest import csrf_token, login, make_user


def test_login_and_logout(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    assert client.get("/").status_code == 302
    r = login(client, "officer")
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    r = client.post("/logout")
    assert r.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_without_saying_why(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    r = login(client, "officer", "nope")
    assert r.status_code == 401
    assert b"Wrong username or password" in r.data
    r = login(client, "ghost", "nope")
    assert r.status_code == 401
    assert b"Wrong username or password" in r.data


def test_failed_logins_are_throttled(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, "officer", "bad").status_code == 401
    r = login(client, "officer")  # even the right password is refused while locked
    assert r.status_code == 429
    assert b"Too many failed attempts" in r.data


def test_passwords_are_hashed(app, session):
    from openscheme.storage.models import User

    make_user(app, "officer", [("enrolment_officer", None, None)], password="plain-text-pw")
    user = session.query(User).filter_by(username="officer").one()
    assert "plain-text-pw" not in user.password_hash
    assert user.password_hash.startswith(("pbkdf2:", "scrypt:"))


def test_csrf_is_enforced_on_login(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = login(client, "officer")
        assert r.status_code == 400
        assert b"The form expired" in r.data
        token = csrf_token(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"username": "officer", "password": "secret-pass", "csrf_token": token})
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_security_headers(client):
    r = client.get("/login")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]


def test_open_redirect_after_login_is_refused(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    r = client.post("/login?next=https://evil.example/", data={"username": "officer", "password": "secret-pass"})
    assert r.status_code == 302
    assert r.headers["Location"] in ("/", "http://localhost/")


def test_login_is_audited(app, client, session):
    from openscheme.storage.models import AuditLog

    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    assert session.query(AuditLog).filter_by(action="login", username="officer").count() == 1


def test_interface_in_french(app, client):
    r = client.get("/login?lang=fr")
    assert "Se connecter" in r.get_data(as_text=True)
