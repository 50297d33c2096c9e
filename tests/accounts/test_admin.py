"""Staff may use the admin for riffweb's models, but only superusers reach the task queue."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.conftest import make_user


@pytest.fixture
def staff_with_every_permission(db):
    user = make_user("stella")
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.mark.parametrize("model", ["schedule", "success", "failure", "ormq"])
def test_staff_cannot_reach_the_queue_admin(client, staff_with_every_permission, model):
    client.force_login(staff_with_every_permission)
    assert client.get(reverse(f"admin:django_q_{model}_changelist")).status_code == 403
    assert client.get(reverse("admin:django_q_schedule_add")).status_code == 403


@pytest.mark.parametrize("model", ["schedule", "success", "failure", "ormq"])
def test_superusers_can(client, db, model):
    admin_user = make_user("root")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:django_q_{model}_changelist")).status_code == 200


@pytest.mark.parametrize("model", ["project", "membership", "invitation", "transform", "song", "upload", "guestlink"])
def test_every_studio_model_is_in_the_admin(client, staff_with_every_permission, model):
    client.force_login(staff_with_every_permission)
    assert client.get(reverse(f"admin:studio_{model}_changelist")).status_code == 200
