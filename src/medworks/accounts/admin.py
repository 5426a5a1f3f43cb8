"""Django admin for onboarding: organisations, their users and roles (superusers only).

Patient, booking and document data are deliberately not in the admin: every read of them must
go through the scoped, logged selectors of the product's own pages.

Unticking "active" on an organisation or a user goes through the same use case as everywhere
(`organisation_set_active`, `user_set_active`): keys revoked, sessions ended, audited. Locked-out
sign-ins are lifted under Axes > Access attempts (delete the attempt).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .actors import actor_for
from .models import Organisation, Role, User
from .services import organisation_set_active, user_set_active


def _is_active_changed(obj, form, change) -> bool:
    """When it is, the admin saves the other fields with `is_active` as stored, and the use case
    makes the change (the admin's own transaction holds both)."""
    if change and "is_active" in form.changed_data:
        obj.is_active = not obj.is_active
        return True
    return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "correspondence_language"]
    list_filter = ["kind", "is_active", "correspondence_language"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        wanted = obj.is_active
        changed = _is_active_changed(obj, form, change)
        super().save_model(request, obj, form, change)
        if changed:
            organisation_set_active(organisation=obj, active=wanted, actor=actor_for(request.user))


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
    list_display = ["username", "first_name", "last_name", "organisation", "is_active"]
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
