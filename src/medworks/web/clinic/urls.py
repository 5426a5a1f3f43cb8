"""The clinic portal. URLs name Order Ids, document versions and GOPs, never patient data."""

from django.urls import path

from . import documents, views

_CASE = "clinic/requests/<str:order_id>/"

urlpatterns: list = [
    path("clinic/", views.clinic_home, name="clinic_home"),
    path("clinic/prices/", views.clinic_prices, name="clinic_prices"),
    path(_CASE, views.clinic_request, name="clinic_request"),
    path(_CASE + "dates/", views.clinic_request_dates, name="clinic_request_dates"),
    path(_CASE + "outcome/", views.clinic_request_outcome, name="clinic_request_outcome"),
    path(_CASE + "decline/", views.clinic_request_decline, name="clinic_request_decline"),
    path(_CASE + "ask/", views.clinic_request_ask, name="clinic_request_ask"),
    path(_CASE + "appointment.ics", views.clinic_request_calendar, name="clinic_request_calendar"),
    path(
        _CASE + "documents/<id:version_id>/",
        documents.clinic_document_download,
        name="clinic_document_download",
    ),
    path(
        _CASE + "gops/<id:gop_id>/acknowledge/",
        documents.clinic_gop_acknowledge,
        name="clinic_gop_acknowledge",
    ),
    path(
        _CASE + "documents/signed/", documents.clinic_document_signed, name="clinic_document_signed"
    ),
    path(
        _CASE + "documents/invoice/",
        documents.clinic_document_invoice,
        name="clinic_document_invoice",
    ),
]
