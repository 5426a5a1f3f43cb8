"""The insurer portal. URLs name Order Ids and document versions, never patient data."""

from django.urls import path

from . import cards, documents, invoices, pricing, views

_CASE = "portal/requests/<str:order_id>/"

urlpatterns: list = [
    path("portal/", views.portal_home, name="portal_home"),
    path("portal/requests/new/", views.portal_request_new, name="portal_request_new"),
    path("portal/search/", views.portal_search, name="portal_search"),
    path("portal/invoices/", invoices.portal_invoices, name="portal_invoices"),
    path(
        "portal/invoices/statement.pdf",
        invoices.portal_statement_pdf,
        name="portal_statement_pdf",
    ),
    path("portal/invoices/<id:invoice_id>/", invoices.portal_invoice, name="portal_invoice"),
    path(
        "portal/invoices/<id:invoice_id>/pdf/",
        invoices.portal_invoice_pdf,
        name="portal_invoice_pdf",
    ),
    path(_CASE, views.portal_request, name="portal_request"),
    path(_CASE + "approve/", views.portal_request_approve, name="portal_request_approve"),
    path(_CASE + "decline/", views.portal_request_decline, name="portal_request_decline"),
    path(_CASE + "cancel/", views.portal_request_cancel, name="portal_request_cancel"),
    path(_CASE + "appointment.ics", views.portal_request_calendar, name="portal_request_calendar"),
    path(_CASE + "quote/confirm/", pricing.portal_quote_confirm, name="portal_quote_confirm"),
    path(_CASE + "quote/dispute/", pricing.portal_quote_dispute, name="portal_quote_dispute"),
    path(_CASE + "documents/new/", documents.portal_document_new, name="portal_document_new"),
    path(_CASE + "card/", cards.portal_card, name="portal_card"),
    path(
        _CASE + "documents/<id:version_id>/",
        documents.portal_document_download,
        name="portal_document_download",
    ),
]
