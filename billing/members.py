"""An account's members: invite by e-mail, change a role, remove; the only writer of
``Membership`` besides ``accounts.add_member``.

An account always keeps an admin: the last one can be neither demoted nor removed. An
invitation creates the user if the address is new (with no usable password) and mails a
one-time link that sets the password (Django's password-reset token, so it stops working
once used or once the password changes).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from billing.accounts import add_member
from billing.models import Account, Membership
from railsite.errors import RequestValidationError, ServiceError


class LastAdmin(ServiceError):
    status = 409
    code = "LAST_ADMIN"
    default_message = "An account must keep an admin: make someone else admin first."


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(message, details={field: [message]})


def members_of(account: Account) -> list[Membership]:
    return list(account.memberships.select_related("user").order_by("user__username"))


def _keep_an_admin(locked: Membership) -> None:
    """Raise LastAdmin if ``locked`` (a row locked by the caller) is its account's only
    admin. Every admin row is locked first, so two concurrent changes cannot both pass."""
    admins = Membership.objects.select_for_update().filter(
        account_id=locked.account_id, role=Membership.Role.ADMIN
    )
    if not [m for m in admins if m.pk != locked.pk]:
        raise LastAdmin()


def change_role(*, membership: Membership, role: str) -> Membership:
    """Give a member another role; the last admin keeps theirs."""
    if role not in Membership.Role.values:
        raise _invalid("role", f"Choose one of: {', '.join(Membership.Role.values)}.")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == Membership.Role.ADMIN and role != locked.role:
            _keep_an_admin(locked)
        locked.role = role
        locked.save(update_fields=["role"])
    return locked


def remove(*, membership: Membership) -> None:
    """Take a member out of the account (their user stays); never the last admin."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == Membership.Role.ADMIN:
            _keep_an_admin(locked)
        locked.delete()


def set_password_link(user: Any, *, base_url: str) -> str:
    """A one-time link that lets ``user`` set a password (Django's reset confirmation)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return base_url.rstrip("/") + path


def invite(
    *, account: Account, email: str, role: str, invited_by: Any, base_url: str
) -> Membership:
    """Add the person with ``email`` to the account and mail them a link to set a password."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except Exception as error:
        raise _invalid("email", "Enter a valid e-mail address.") from error
    users = get_user_model()
    user = users.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = users.objects.create_user(username=email, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if Membership.objects.filter(account=account, user=user).exists():
        raise _invalid("email", "This person is already a member of the account.")
    membership = add_member(account=account, user=user, role=role)
    who = getattr(invited_by, "get_username", lambda: "An admin")()
    if created or not user.has_usable_password():
        action = f"Set your password here (the link works once):\n{set_password_link(user, base_url=base_url)}"
    else:
        action = f"Log in with your existing password at {base_url.rstrip('/')}{reverse('login')}"
    send_mail(
        subject=f"You were added to {account.name} on railsite",
        message=f"{who} added you to {account.name} as {role}.\n\n{action}\n",
        from_email=None,
        recipient_list=[email],
    )
    return membership
