from django.urls import reverse

from tests.conftest import PASSWORD


def test_the_login_page_is_served(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Log in to riffweb" in response.content.decode()


def test_logging_in_lands_on_my_projects(client, owner):
    response = client.post(reverse("login"), {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:project_list")


def test_a_wrong_password_says_so(client, owner):
    response = client.post(reverse("login"), {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_sign_up_is_off_by_default(client, db):
    assert client.get(reverse("signup")).status_code == 404


def test_sign_up_when_switched_on(client, db, settings):
    settings.RIFFWEB_SIGNUP_ENABLED = True
    response = client.post(reverse("signup"), {
        "username": "newbie", "password1": "a-very-long-pass-99", "password2": "a-very-long-pass-99"})
    assert response.status_code == 302


def test_password_change_works(owner_client):
    response = owner_client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "another-long-pass-77",
        "new_password2": "another-long-pass-77"})
    assert response.status_code == 302


def test_logout_needs_a_post(owner_client):
    assert owner_client.get(reverse("logout")).status_code == 405
    assert owner_client.post(reverse("logout")).status_code == 302


def test_the_demo_account_command_is_idempotent(db):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("ensure_demo_user")
    call_command("ensure_demo_user")
    user = get_user_model().objects.get(username="demo")
    assert user.check_password("riffweb-demo")
    assert user.projects.count() == 1
