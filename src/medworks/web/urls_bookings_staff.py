"""Staff booking pages: work queue, case page, email intake."""

from django.urls import path

from .views import api_keys
from .views import bookings_staff as views

_CASE = "staff/bookings/<str:order_id>/"

urlpatterns: list = [
    path("staff/bookings/", views.work_queue, name="staff_booking_queue"),
    # Before the case pattern: "new" is not an Order Id.
    path("staff/bookings/new/", views.booking_intake, name="staff_booking_new"),
    path(_CASE, views.case_detail, name="staff_booking_detail"),
    path(_CASE + "source/", views.case_source, name="staff_booking_source"),
    path(_CASE + "take/", views.case_take, name="staff_booking_take"),
    path(_CASE + "assign-me/", views.case_assign_me, name="staff_booking_assign_me"),
    path(_CASE + "clinic/", views.case_select_clinic, name="staff_booking_select_clinic"),
    path(_CASE + "escalate/", views.case_escalate, name="staff_booking_escalate"),
    path(_CASE + "dates/", views.case_offer_dates, name="staff_booking_offer_dates"),
    path(_CASE + "approve/", views.case_approve_slot, name="staff_booking_approve"),
    path(_CASE + "decline/", views.case_decline_dates, name="staff_booking_decline"),
    path(_CASE + "cancel/", views.case_cancel, name="staff_booking_cancel"),
    path(_CASE + "step/<slug:name>/", views.case_step, name="staff_booking_step"),
    # Insurers' API keys (the key id is posted, so no URL names a key).
    path("staff/api-keys/", api_keys.api_key_list, name="api_keys"),
    path("staff/api-keys/new/", api_keys.api_key_create, name="api_key_create"),
    path("staff/api-keys/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
]
