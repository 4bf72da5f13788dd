"""Team and access (issue 13): members management, invitations, password change and reset."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from billing.models import Membership

URL = "/members/"


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_an_admin_invites_someone_who_sets_a_password_and_logs_in(as_alice, account_a, client):
    response = as_alice.post(
        URL, {"action": "invite", "email": "Rita@Example.org", "role": "reviewer"}
    )
    assert response.status_code == 302
    rita = get_user_model().objects.get(email="rita@example.org")
    assert not rita.has_usable_password()
    assert Membership.objects.get(user=rita, account=account_a).role == "reviewer"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rita@example.org"]

    client.logout()
    confirm = client.get(_link(mail.outbox[0]), follow=True)  # Django swaps the token for a session
    assert "Set your password" in confirm.content.decode()
    done = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": "a long new password 42", "new_password2": "a long new password 42"},
    )
    assert done.status_code == 302
    rita.refresh_from_db()
    assert rita.check_password("a long new password 42")
    used_again = client.get(_link(mail.outbox[0]), follow=True).content.decode()
    assert "has been used or has expired" in used_again


def test_an_admin_changes_a_role_and_removes_a_member(as_alice, bob, account_a):
    member = Membership.objects.get(user=bob, account=account_a)
    as_alice.post(URL, {"action": "role", "membership": member.pk, "role": "viewer"})
    member.refresh_from_db()
    assert member.role == "viewer"
    as_alice.post(URL, {"action": "remove", "membership": member.pk})
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert get_user_model().objects.filter(pk=bob.pk).exists()  # the person stays


def test_the_last_admin_can_be_neither_demoted_nor_removed(as_alice, alice, account_a):
    me = Membership.objects.get(user=alice, account=account_a)
    demoted = as_alice.post(
        URL, {"action": "role", "membership": me.pk, "role": "viewer"}, follow=True
    )
    assert "must keep an admin" in demoted.content.decode()
    removed = as_alice.post(URL, {"action": "remove", "membership": me.pk}, follow=True)
    assert "must keep an admin" in removed.content.decode()
    me.refresh_from_db()
    assert me.role == "admin"


def test_a_member_of_another_account_cannot_be_touched(as_alice, account_b):
    from tests.factories import MembershipFactory, UserFactory

    theirs = MembershipFactory(user=UserFactory(username="zed"), account=account_b, role="admin")
    response = as_alice.post(URL, {"action": "remove", "membership": theirs.pk})
    assert response.status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_inviting_a_member_twice_or_a_bad_address_is_refused(as_alice, bob):
    bob.email = "bob@example.org"
    bob.save()
    twice = as_alice.post(URL, {"action": "invite", "email": "bob@example.org", "role": "viewer"})
    assert twice.status_code == 400
    assert "already a member" in twice.content.decode()
    bad = as_alice.post(URL, {"action": "invite", "email": "not-an-address", "role": "viewer"})
    assert bad.status_code == 400
    assert mail.outbox == []


def test_only_admins_manage_members(client, bob):
    client.force_login(bob)
    assert client.get(URL).status_code == 403


def test_user_text_is_escaped_on_the_members_page(as_alice, account_a):
    from tests.factories import MembershipFactory, UserFactory

    MembershipFactory(
        user=UserFactory(username="<script>x</script>"), account=account_a, role="viewer"
    )
    page = as_alice.get(URL).content.decode()
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_a_member_changes_their_password(client, bob):
    client.force_login(bob)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "another long password 7",
            "new_password2": "another long password 7",
        },
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password("another long password 7")


def test_a_forgotten_password_is_reset_by_e_mail(client, bob):
    bob.email = "bob@example.org"
    bob.save()
    assert "Forgot your password?" in client.get(reverse("login")).content.decode()
    client.post(reverse("password_reset"), {"email": "bob@example.org"})
    assert len(mail.outbox) == 1
    confirm = client.get(_link(mail.outbox[0]), follow=True)
    client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": "a reset password 99", "new_password2": "a reset password 99"},
    )
    bob.refresh_from_db()
    assert bob.check_password("a reset password 99")
