"""The insurer portal. URLs name Order Ids and document versions, never patient data."""

from django.urls import path

from . import cards, documents, invoices, pricing, views, webhooks

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
    # The insurer's own webhook endpoints (web/insurer/webhooks.py)
    path("portal/webhooks/", webhooks.webhook_list, name="portal_webhooks"),
    path(
        "portal/webhooks/<id:endpoint_id>/", webhooks.webhook_detail, name="portal_webhook_detail"
    ),
    path(
        "portal/webhooks/<id:endpoint_id>/rotate/",
        webhooks.webhook_rotate,
        name="portal_webhook_rotate",
    ),
    path(
        "portal/webhooks/<id:endpoint_id>/step/<slug:name>/",
        webhooks.webhook_step,
        name="portal_webhook_step",
    ),
    path(
        "portal/webhooks/<id:endpoint_id>/test/", webhooks.webhook_test, name="portal_webhook_test"
    ),
    path(
        "portal/webhooks/<id:endpoint_id>/resend/",
        webhooks.webhook_resend,
        name="portal_webhook_resend",
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
