"""Insurer and clinic portal booking pages, and the one-click email links.

The portal homes (/portal/, /clinic/) stay in urls.py (views/portals.py); they show the
booking lists built here. Order Ids are in URLs, never patient data.
"""

from django.urls import path

from .views import bookings_portal_links as links
from .views import bookings_portals as portals

urlpatterns: list = [
    # Insurer portal
    path("portal/requests/new/", portals.portal_request_new, name="portal_request_new"),
    path("portal/requests/<str:order_id>/", portals.portal_request, name="portal_request"),
    path(
        "portal/requests/<str:order_id>/approve/",
        portals.portal_request_approve,
        name="portal_request_approve",
    ),
    path(
        "portal/requests/<str:order_id>/decline/",
        portals.portal_request_decline,
        name="portal_request_decline",
    ),
    path(
        "portal/requests/<str:order_id>/cancel/",
        portals.portal_request_cancel,
        name="portal_request_cancel",
    ),
    path(
        "portal/requests/<str:order_id>/appointment.ics",
        portals.portal_request_calendar,
        name="portal_request_calendar",
    ),
    # Clinic portal
    path("clinic/requests/<str:order_id>/", portals.clinic_request, name="clinic_request"),
    path(
        "clinic/requests/<str:order_id>/dates/",
        portals.clinic_request_dates,
        name="clinic_request_dates",
    ),
    path(
        "clinic/requests/<str:order_id>/outcome/",
        portals.clinic_request_outcome,
        name="clinic_request_outcome",
    ),
    path(
        "clinic/requests/<str:order_id>/cancel/",
        portals.clinic_request_cancel,
        name="clinic_request_cancel",
    ),
    path(
        "clinic/requests/<str:order_id>/appointment.ics",
        portals.clinic_request_calendar,
        name="clinic_request_calendar",
    ),
    # Signed one-click links from the "dates offered" email (no login: the token is checked)
    path("links/offer/<str:token>/", links.offer_link, name="offer_link"),
]
