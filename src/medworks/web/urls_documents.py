"""Paperwork routes: documents and GOPs on the staff case page, the insurer's and the clinic's
uploads and downloads, and the access history of a case and of a patient.

URLs name Order Ids, document-version, GOP and patient numbers: never patient data.
"""

from django.urls import path

from .views import documents_portals as portals
from .views import documents_staff as staff

_STAFF = "staff/bookings/<str:order_id>/"
_PORTAL = "portal/requests/<str:order_id>/"
_CLINIC = "clinic/requests/<str:order_id>/"

urlpatterns: list = [
    # Staff back office
    path(_STAFF + "documents/new/", staff.staff_document_new, name="staff_document_new"),
    path(
        _STAFF + "documents/<int:version_id>/",
        staff.staff_document_download,
        name="staff_document_download",
    ),
    path(_STAFF + "gops/new/", staff.staff_gop_new, name="staff_gop_new"),
    path(_STAFF + "gops/request/", staff.staff_gop_request, name="staff_gop_request"),
    path(_STAFF + "gops/<int:gop_id>/amend/", staff.staff_gop_amend, name="staff_gop_amend"),
    path(_STAFF + "gops/<int:gop_id>/status/", staff.staff_gop_status, name="staff_gop_status"),
    path(_STAFF + "access/", staff.staff_case_access, name="staff_case_access"),
    path(
        "staff/patients/<int:patient_id>/access/",
        staff.staff_patient_access,
        name="staff_patient_access",
    ),
    # Insurer portal
    path(_PORTAL + "documents/new/", portals.portal_document_new, name="portal_document_new"),
    path(
        _PORTAL + "documents/<int:version_id>/",
        portals.portal_document_download,
        name="portal_document_download",
    ),
    # Clinic portal
    path(
        _CLINIC + "documents/<int:version_id>/",
        portals.clinic_document_download,
        name="clinic_document_download",
    ),
    path(
        _CLINIC + "gops/<int:gop_id>/acknowledge/",
        portals.clinic_gop_acknowledge,
        name="clinic_gop_acknowledge",
    ),
    path(
        _CLINIC + "documents/signed/", portals.clinic_document_signed, name="clinic_document_signed"
    ),
    path(
        _CLINIC + "documents/invoice/",
        portals.clinic_document_invoice,
        name="clinic_document_invoice",
    ),
]
