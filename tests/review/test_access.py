"""Who may in: a login for every route but the login page, its files and health; tokens for scripts;
a trusted proxy's header from listed addresses only; roles; and what every answer carries."""

import pytest

from nerd.errors import ConfigError
from nerd.review.serving import check_identity_set_up
from nerd.review.settings import ReviewSettings
from nerd.review.users import Role, add_user, disable_user, new_token
from tests.review.factories import PASSWORD, accept, client, made, signed_in, with_users

ROUTES = [
    ("GET", "/api/me"),
    ("GET", "/api/project"),
    ("GET", "/api/next"),
    ("GET", "/api/queue"),
    ("GET", "/api/items/1"),
    ("POST", "/api/items/1/decisions"),
    ("POST", "/api/items/1/undo"),
    ("POST", "/api/decisions/1/undo"),
    ("POST", "/api/items/1/lease"),
    ("GET", "/api/progress"),
    ("GET", "/api/history"),
    ("GET", "/api/conflicts"),
    ("POST", "/api/items/1/settlement"),
    ("GET", "/api/stats"),
    ("GET", "/api/export"),
]


@pytest.fixture
def store(tmp_path):
    return with_users(made(str(tmp_path / "r.db")), "Anna Smith", "O'Brien")


def test_every_route_but_login_and_health_needs_a_session(store):
    anonymous = client(store)
    for method, path in ROUTES:
        answer = anonymous.request(method, path, json={"action": "skip"} if method == "POST" else None)
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert "sign in" in answer.json()["detail"]
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/login"
    for path in ("/login", "/static/login.js", "/static/review.css", "/health"):
        assert anonymous.get(path).status_code == 200, path
    assert (
        anonymous.post("/api/login", json={"name": "Anna Smith", "password": "wrong one"}).status_code == 401
    )
    assert anonymous.post("/api/login", json={"name": "nobody", "password": PASSWORD}).status_code == 401


def test_the_reviewer_is_the_session_s_never_a_name_in_the_body(store):
    anna = signed_in(store, "Anna Smith")
    assert anna.get("/api/me").json() == {"name": "Anna Smith", "role": "reviewer", "how": "session"}
    item = anna.get("/api/next").json()
    refused = anna.post(f"/api/items/{item['id']}/decisions", json={"action": "skip", "reviewer": "O'Brien"})
    assert refused.status_code == 422
    made_ = accept(anna, item["id"], [(0, 1, "PER")])
    assert made_.status_code == 201 and made_.json()["reviewer"] == "Anna Smith"
    # O'Brien cannot take back Anna's decision, by item or by id.
    obrien = signed_in(store, "O'Brien")
    assert obrien.post(f"/api/items/{item['id']}/undo").status_code == 409
    assert obrien.post(f"/api/decisions/{made_.json()['id']}/undo").status_code == 403
    assert anna.post(f"/api/decisions/{made_.json()['id']}/undo").status_code == 201


def test_a_logout_or_a_disabled_user_ends_the_session_at_once(store):
    anna = signed_in(store, "Anna Smith")
    assert anna.post("/api/logout").status_code == 204
    assert anna.get("/api/me").status_code == 401
    obrien = signed_in(store, "O'Brien")
    disable_user(store, "O'Brien")
    assert obrien.get("/api/me").status_code == 401
    assert client(store).post("/api/login", json={"name": "O'Brien", "password": PASSWORD}).status_code == 401


def test_a_personal_token_opens_the_api_for_scripts_and_a_new_one_replaces_it(store):
    token = new_token(store, "Anna Smith")
    script = client(store)
    headers = {"Authorization": f"Bearer {token}"}
    assert script.get("/api/me", headers=headers).json()["how"] == "token"
    new_token(store, "Anna Smith")
    assert script.get("/api/me", headers=headers).status_code == 401
    assert script.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_cookie_made_for_one_database_opens_no_other(tmp_path, store):
    anna = signed_in(store, "Anna Smith")
    cookie = anna.cookies.get("nerd_review")
    other = with_users(made(str(tmp_path / "other.db")), "Anna Smith")
    stranger = client(other)
    stranger.cookies.set("nerd_review", cookie)
    assert stranger.get("/api/me").status_code == 401


def test_the_session_cookie_is_http_only_same_site_strict_and_secure_over_tls(store):
    answer = client(store).post("/api/login", json={"name": "Anna Smith", "password": PASSWORD})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    tls = client(store, ReviewSettings(tls=True), base_url="https://127.0.0.1")
    cookie = tls.post("/api/login", json={"name": "Anna Smith", "password": PASSWORD}).headers["set-cookie"]
    assert "secure" in cookie.lower()


def test_roles_a_reviewer_decides_an_adjudicator_also_settles_reads_stats_and_exports(store):
    add_user(store, "Zoë 🦊", Role.adjudicator, PASSWORD)
    anna = signed_in(store, "Anna Smith")
    for path in ("/api/stats", "/api/conflicts", "/api/export"):
        assert anna.get(path).status_code == 403
    assert anna.post("/api/items/1/settlement", json={"spans": None}).status_code == 403
    zoe = signed_in(store, "Zoë 🦊")
    for path in ("/api/stats", "/api/conflicts", "/api/export"):
        assert zoe.get(path).status_code == 200, path


def test_an_open_review_is_for_one_person_on_loopback_until_a_user_is_added(tmp_path):
    store = made(str(tmp_path / "r.db"))
    person = client(store, ReviewSettings(open_reviewer="ann"))
    assert person.get("/api/me").json() == {"name": "ann", "role": "adjudicator", "how": "open"}
    add_user(store, "ann", Role.reviewer, PASSWORD)
    assert person.get("/api/me").status_code == 401
    # Off loopback, a review without users does not start at all.
    empty = made(str(tmp_path / "e.db"))
    with pytest.raises(ConfigError, match="nerd review users add"):
        check_identity_set_up(empty, ReviewSettings(host="0.0.0.0"))
    check_identity_set_up(store, ReviewSettings(host="0.0.0.0"))
    # and a network-facing app never opens up, users or not
    assert (
        client(empty, ReviewSettings(host="10.0.0.5"))
        .get("/api/me", headers={"host": "10.0.0.5"})
        .status_code
        == 401
    )


def test_a_trusted_proxy_names_the_user_and_no_one_else_can(store):
    settings = ReviewSettings(trusted_proxies=("testclient",), user_header="X-Remote-User")
    # TestClient's requests come from the address "testclient": listed, its header is believed.
    proxied = client(store, settings)
    assert proxied.get("/api/me", headers={"X-Remote-User": "Anna Smith"}).json()["how"] == "proxy"
    # A person the proxy signed in for the first time becomes a reviewer.
    assert proxied.get("/api/me", headers={"X-Remote-User": "Kim Lee"}).json()["role"] == "reviewer"
    unlisted = client(store, ReviewSettings(trusted_proxies=("10.9.9.9",)))
    assert unlisted.get("/api/me", headers={"X-Forwarded-User": "Anna Smith"}).status_code == 401


def test_other_hosts_and_writes_from_other_origins_are_refused(store):
    anna = signed_in(store, "Anna Smith")
    assert anna.get("/api/me", headers={"host": "evil.example"}).status_code == 400
    for headers in ({"origin": "http://evil.example"}, {"sec-fetch-site": "cross-site"}):
        answer = anna.post("/api/items/1/decisions", json={"action": "skip"}, headers=headers)
        assert answer.status_code == 403 and "another" in answer.json()["detail"]
    assert anna.post(
        "/api/items/1/decisions", json={"action": "skip"}, headers={"origin": "http://127.0.0.1"}
    ).status_code in (201, 409)
    allowed = client(store, ReviewSettings(allowed_hosts=("review.bank.internal",)))
    assert allowed.get("/health", headers={"host": "review.bank.internal"}).status_code == 200


def test_every_answer_carries_the_security_headers(store):
    answer = client(store).get("/login")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert client(store).get("/api/me").headers["cache-control"] == "no-store"
