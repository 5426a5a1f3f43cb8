"""Django admin for onboarding: organisations, their users and roles (superusers only).

Patient, booking and document data are deliberately not in the admin: every read of them must
go through the scoped, logged selectors of the product's own pages.

Unticking "active" on an organisation or a user goes through the same use case as everywhere
(`organisation_set_active`, `user_set_active`): keys revoked, sessions ended, audited. Locked-out
sign-ins are lifted under Axes > Access attempts (delete the attempt).

Second factors (accounts/two_factor.py): an organisation's "requires two-step sign-in" is saved
through `organisation_set_two_factor_required` (audited). Users > select > "Reset the second
factor" is the lost-phone action (`user_two_factor_reset`: app and recovery codes removed,
sessions ended, audited), offered only to holders of Capability.TWO_FACTOR_RESET. django-otp's
own device pages are taken out of the admin: they would show the secret keys and delete devices
without an audit row.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from medworks.core.errors import DomainError

from .actors import actor_for
from .models import Organisation, Role, User
from .permissions import Capability, user_can
from .services import (
    organisation_set_active,
    organisation_set_two_factor_required,
    user_set_active,
    user_two_factor_reset,
)
from .two_factor import two_factor_required

for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


def _is_active_changed(obj, form, change) -> bool:
    """When it is, the admin saves the other fields with `is_active` as stored, and the use case
    makes the change (the admin's own transaction holds both)."""
    if change and "is_active" in form.changed_data:
        obj.is_active = not obj.is_active
        return True
    return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "correspondence_language", "require_two_factor"]
    list_filter = ["kind", "is_active", "correspondence_language", "require_two_factor"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        wanted = obj.is_active
        changed = _is_active_changed(obj, form, change)
        wanted_two_factor = obj.require_two_factor
        two_factor_changed = change and "require_two_factor" in form.changed_data
        if two_factor_changed:
            obj.require_two_factor = not wanted_two_factor  # as stored; the use case changes it
        super().save_model(request, obj, form, change)
        if changed:
            organisation_set_active(organisation=obj, active=wanted, actor=actor_for(request.user))
        if two_factor_changed:
            organisation_set_two_factor_required(
                organisation=obj, required=wanted_two_factor, actor=actor_for(request.user)
            )


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    """Roles are seeded by a migration and named in code: read-only here."""

    list_display = ["code", "name"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "organisation",
        "is_active",
        "two_factor",
    ]
    actions = ["two_factor_reset"]
    list_filter = ["organisation__kind", "roles", "is_active"]
    list_select_related = ["organisation"]
    search_fields = ["username", "first_name", "last_name", "email", "organisation__name"]
    filter_horizontal = ["roles", "groups", "user_permissions"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("MedWorks", {"fields": ("organisation", "roles", "preferred_language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("MedWorks", {"fields": ("organisation", "roles", "email", "first_name", "last_name")}),
    )

    def save_model(self, request, obj, form, change):
        wanted = obj.is_active
        changed = _is_active_changed(obj, form, change)
        super().save_model(request, obj, form, change)
        if changed:
            user_set_active(user=obj, active=wanted, actor=actor_for(request.user))

    def get_queryset(self, request):
        apps = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_two_factor=Exists(apps))

    @admin.display(description="Two-step sign-in", ordering="has_two_factor")
    def two_factor(self, obj) -> str:
        on = getattr(obj, "has_two_factor", False)
        if on:
            return "on"
        return "required, not set up" if two_factor_required(obj) else "off"

    def has_two_factor_reset_permission(self, request) -> bool:
        return user_can(request.user, Capability.TWO_FACTOR_RESET)

    @admin.action(
        description="Reset the second factor (lost phone): remove the app, end the sessions",
        permissions=["two_factor_reset"],
    )
    def two_factor_reset(self, request, queryset):
        actor = actor_for(request.user)
        done = []
        for user in queryset.order_by("pk"):
            try:
                user_two_factor_reset(user=user, actor=actor)
            except DomainError as exc:
                self.message_user(request, f"{user.username}: {exc.message}", messages.ERROR)
            else:
                done.append(user.username)
        if done:
            self.message_user(
                request,
                f"Second factor reset, sessions ended: {', '.join(done)}.",
                messages.SUCCESS,
            )
