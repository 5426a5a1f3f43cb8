"""The staff back office: directory, find a clinic, import/export, the work queue and case pages,
email intake, paperwork, API keys. URLs name Order Ids and record numbers, never patient data."""

from django.urls import path

from . import (
    api_keys,
    cards,
    case,
    dashboard,
    directory,
    documents,
    eft,
    escalations,
    find,
    inbox,
    insurer_settings,
    intake,
    invoices,
    orders,
    payables,
    payment_requests,
    pricing,
    privacy,
    queue,
    reconciliation,
    reconciliation_table,
    tax_rates,
    transfer,
    webhooks,
)

_CASE = "staff/bookings/<str:order_id>/"

urlpatterns: list = [
    path("staff/", directory.staff_home, name="staff_home"),
    path("staff/dashboard/", dashboard.dashboard, name="dashboard"),
    # The directory
    path("staff/partners/", directory.partner_list, name="partner_list"),
    path("staff/partners/new/", directory.partner_create, name="partner_create"),
    path("staff/partners/<id:partner_id>/", directory.partner_detail, name="partner_detail"),
    path("staff/partners/<id:partner_id>/edit/", directory.partner_edit, name="partner_edit"),
    path(
        "staff/partners/<id:partner_id>/active/",
        directory.partner_set_active,
        name="partner_set_active",
    ),
    path(
        "staff/partners/<id:partner_id>/locations/new/",
        directory.location_create,
        name="location_create",
    ),
    path("staff/locations/<id:location_id>/edit/", directory.location_edit, name="location_edit"),
    path(
        "staff/locations/<id:location_id>/services/add/",
        directory.offering_add,
        name="offering_add",
    ),
    path(
        "staff/offerings/<id:offering_id>/price/", directory.offering_price, name="offering_price"
    ),
    path(
        "staff/offerings/<id:offering_id>/active/",
        directory.offering_set_active,
        name="offering_set_active",
    ),
    path("staff/find/", find.find_clinic, name="find_clinic"),
    path("staff/import/", transfer.directory_import_page, name="directory_import"),
    path("staff/export.xlsx", transfer.directory_export, name="directory_export"),
    # Booking requests
    path("staff/bookings/", queue.work_queue, name="staff_booking_queue"),
    # Before the case pattern: "new" is not an Order Id.
    path("staff/bookings/new/", intake.booking_intake, name="staff_booking_new"),
    path("staff/bookings/search/", queue.case_search, name="staff_booking_search"),
    path(_CASE, case.case_detail, name="staff_booking_detail"),
    path(_CASE + "source/", intake.case_source, name="staff_booking_source"),
    path(_CASE + "emails/<id:email_id>/", inbox.case_email, name="staff_booking_email"),
    # The booking inbox: emails waiting for an agent (the email's id is posted to dismiss).
    path("staff/inbox/", inbox.inbox_list, name="staff_inbox"),
    path("staff/inbox/dismiss/", inbox.inbox_dismiss, name="staff_inbox_dismiss"),
    path(_CASE + "take/", case.case_take, name="staff_booking_take"),
    path(_CASE + "assign-me/", case.case_assign_me, name="staff_booking_assign_me"),
    path(_CASE + "clinic/", case.case_select_clinic, name="staff_booking_select_clinic"),
    path(_CASE + "escalate/", case.case_escalate, name="staff_booking_escalate"),
    # Management: escalated cases and the provider found
    path("staff/escalations/", escalations.escalation_queue, name="escalation_queue"),
    path(_CASE + "escalation/take/", escalations.escalation_take, name="escalation_take"),
    path(_CASE + "escalation/assign/", escalations.escalation_assign, name="escalation_assign"),
    path(_CASE + "escalation/provider/", escalations.provider_found, name="provider_found"),
    path(_CASE + "dates/", case.case_offer_dates, name="staff_booking_offer_dates"),
    path(_CASE + "approve/", case.case_approve_slot, name="staff_booking_approve"),
    path(_CASE + "decline/", case.case_decline_dates, name="staff_booking_decline"),
    path(_CASE + "clinic-declines/", case.case_clinic_decline, name="staff_booking_clinic_decline"),
    path(_CASE + "cancel/", case.case_cancel, name="staff_booking_cancel"),
    path(_CASE + "step/<slug:name>/", case.case_step, name="staff_booking_step"),
    # The quote: the insurer's answer, recorded by staff
    path(_CASE + "quote/confirm/", pricing.staff_quote_confirm, name="staff_quote_confirm"),
    path(_CASE + "quote/dispute/", pricing.staff_quote_dispute, name="staff_quote_dispute"),
    path(_CASE + "order/send/", orders.staff_order_send, name="staff_order_send"),
    # Paperwork
    path(_CASE + "documents/new/", documents.staff_document_new, name="staff_document_new"),
    path(
        _CASE + "documents/<id:version_id>/",
        documents.staff_document_download,
        name="staff_document_download",
    ),
    path(_CASE + "gops/new/", documents.staff_gop_new, name="staff_gop_new"),
    path(_CASE + "gops/request/", documents.staff_gop_request, name="staff_gop_request"),
    path(_CASE + "gops/<id:gop_id>/amend/", documents.staff_gop_amend, name="staff_gop_amend"),
    path(_CASE + "gops/<id:gop_id>/status/", documents.staff_gop_status, name="staff_gop_status"),
    path(_CASE + "access/", documents.staff_case_access, name="staff_case_access"),
    path(
        "staff/patients/<id:patient_id>/access/",
        documents.staff_patient_access,
        name="staff_patient_access",
    ),
    # The privacy office (staff/privacy.py): the breach register, the access trail.
    path("staff/privacy/breaches/", privacy.breach_list, name="privacy_breaches"),
    path("staff/privacy/breaches/new/", privacy.breach_new, name="privacy_breach_new"),
    path(
        "staff/privacy/breaches/<id:breach_id>/",
        privacy.breach_detail,
        name="privacy_breach_detail",
    ),
    path("staff/privacy/access/", privacy.access_trail_search, name="privacy_access"),
    path(
        "staff/privacy/access/patients/<id:patient_id>/",
        privacy.patient_trail,
        name="privacy_patient_trail",
    ),
    path(
        "staff/privacy/access/patients/<id:patient_id>/export.csv",
        privacy.patient_trail_export,
        name="privacy_patient_trail_export",
    ),
    path(
        "staff/privacy/access/users/<id:user_id>/",
        privacy.user_trail,
        name="privacy_user_trail",
    ),
    path(
        "staff/privacy/access/users/<id:user_id>/export.csv",
        privacy.user_trail_export,
        name="privacy_user_trail_export",
    ),
    # Insurers' API keys (the key id is posted, so no URL names a key).
    path("staff/api-keys/", api_keys.api_key_list, name="api_keys"),
    path("staff/api-keys/new/", api_keys.api_key_create, name="api_key_create"),
    path("staff/api-keys/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    # Insurers' webhook endpoints (web/staff/webhooks.py; the delivery id is posted).
    path("staff/webhooks/", webhooks.webhook_list, name="staff_webhooks"),
    path("staff/webhooks/<id:endpoint_id>/", webhooks.webhook_detail, name="staff_webhook_detail"),
    path(
        "staff/webhooks/<id:endpoint_id>/rotate/",
        webhooks.webhook_rotate,
        name="staff_webhook_rotate",
    ),
    path(
        "staff/webhooks/<id:endpoint_id>/step/<slug:name>/",
        webhooks.webhook_step,
        name="staff_webhook_step",
    ),
    path("staff/webhooks/<id:endpoint_id>/test/", webhooks.webhook_test, name="staff_webhook_test"),
    path(
        "staff/webhooks/<id:endpoint_id>/resend/",
        webhooks.webhook_resend,
        name="staff_webhook_resend",
    ),
    # Finance's settings: each insurer's pricing, tax and service area; the tax rate table.
    path("staff/insurers/", insurer_settings.insurer_settings_list, name="insurer_settings_list"),
    path(
        "staff/insurers/<id:insurer_id>/",
        insurer_settings.insurer_settings,
        name="insurer_settings",
    ),
    path(
        "staff/insurers/<id:insurer_id>/invoicing/",
        insurer_settings.insurer_invoicing,
        name="insurer_invoicing",
    ),
    path(
        "staff/insurers/<id:insurer_id>/service-markup/",
        insurer_settings.insurer_service_markup,
        name="insurer_service_markup",
    ),
    path(
        "staff/insurers/<id:insurer_id>/fixed-price/",
        insurer_settings.insurer_fixed_price,
        name="insurer_fixed_price",
    ),
    path(
        "staff/insurers/<id:insurer_id>/service-area/",
        insurer_settings.insurer_service_area,
        name="insurer_service_area",
    ),
    path("staff/tax-rates/", tax_rates.tax_rate_list, name="tax_rates"),
    path("staff/tax-rates/<id:rate_id>/edit/", tax_rates.tax_rate_edit, name="tax_rate_edit"),
    # Finance's invoicing (staff/invoices.py): invoices, statements, payments, receivables.
    path("staff/invoices/", invoices.invoice_list, name="invoice_list"),
    path("staff/invoices/statements/", invoices.invoice_statement, name="invoice_draft_statement"),
    path("staff/invoices/<id:invoice_id>/", invoices.invoice_detail, name="invoice_detail"),
    path(
        "staff/invoices/<id:invoice_id>/pdf/",
        invoices.invoice_pdf_download,
        name="invoice_pdf_download",
    ),
    path(
        "staff/invoices/<id:invoice_id>/issue/", invoices.invoice_issue_view, name="invoice_issue"
    ),
    path("staff/invoices/<id:invoice_id>/credit/", invoices.invoice_credit, name="invoice_credit"),
    path(
        "staff/invoices/<id:invoice_id>/discard/", invoices.invoice_discard, name="invoice_discard"
    ),
    path(_CASE + "invoice/draft/", invoices.invoice_draft_case, name="invoice_draft_for_case"),
    path("staff/payments/new/", invoices.payment_record_page, name="payment_record"),
    path("staff/receivables/", invoices.receivables, name="receivables"),
    path(
        "staff/receivables/<id:insurer_id>/statement.pdf",
        invoices.receivables_statement_pdf,
        name="receivables_statement_pdf",
    ),
    # The SOP's reconciliation table and its exports (staff/reconciliation_table.py)
    path(
        "staff/reconciliation/",
        reconciliation_table.reconciliation_table,
        name="reconciliation_table",
    ),
    path(
        "staff/reconciliation/export.<str:fmt>",
        reconciliation_table.reconciliation_export,
        name="reconciliation_export",
    ),
    # Providers' invoices and what MedWorks owes them
    path("staff/payables/", payables.payables_page, name="payables"),
    path(
        "staff/provider-invoices/<id:invoice_id>/",
        payables.provider_invoice_detail,
        name="provider_invoice_detail",
    ),
    path(
        "staff/provider-invoices/<id:invoice_id>/approve/",
        payables.provider_invoice_approve_view,
        name="provider_invoice_approve",
    ),
    path(
        "staff/provider-invoices/<id:invoice_id>/reject/",
        payables.provider_invoice_reject_view,
        name="provider_invoice_reject",
    ),
    path(
        "staff/provider-invoices/<id:invoice_id>/payments/",
        payables.provider_payment_view,
        name="provider_payment",
    ),
    path(
        _CASE + "provider-invoice/new/", payables.provider_invoice_new, name="provider_invoice_new"
    ),
    # Pre-paying providers (SOP case 4): the insurer's card, the payment requests
    path(_CASE + "card/", cards.staff_card, name="staff_card"),
    path(_CASE + "card/enter/", cards.staff_card_enter, name="staff_card_enter"),
    path(_CASE + "card/reveal/", cards.staff_card_reveal, name="staff_card_reveal"),
    path(
        "staff/invoices/<id:invoice_id>/charge-card/",
        cards.invoice_card_charge,
        name="invoice_card_charge",
    ),
    path(
        "staff/payment-requests/",
        payment_requests.payment_request_list,
        name="payment_request_list",
    ),
    path(
        "staff/payment-requests/new/",
        payment_requests.payment_request_new,
        name="payment_request_new",
    ),
    path(
        "staff/payment-requests/<id:request_id>/",
        payment_requests.payment_request_detail,
        name="payment_request_detail",
    ),
    path(
        "staff/payment-requests/<id:request_id>/step/<slug:name>/",
        payment_requests.payment_request_step_view,
        name="payment_request_step",
    ),
    path(
        "staff/payment-requests/<id:request_id>/change/",
        payment_requests.payment_request_change_view,
        name="payment_request_change",
    ),
    path(
        "staff/payment-requests/<id:request_id>/paid/",
        payment_requests.payment_made_view,
        name="payment_made",
    ),
    path(
        "staff/receivables/journal.csv", invoices.ledger_journal_download, name="ledger_journal_csv"
    ),
    # Paying providers by EFT (SOP case 4 step 5): bank accounts, CPA-005 files (finance)
    path(
        "staff/partners/<id:partner_id>/bank-account/",
        eft.provider_bank_account,
        name="provider_bank_account",
    ),
    path("staff/eft-files/", eft.eft_files_page, name="eft_files"),
    path("staff/eft-files/new/", eft.eft_file_create_view, name="eft_file_create"),
    path("staff/eft-files/<id:file_id>/", eft.eft_file_download, name="eft_file_download"),
    # Reconciliation (SOP case 4 step 6, staff/reconciliation.py): the coordinator's queue and
    # each order's checks; finance's months.
    path(
        "staff/reconciliation/queue/",
        reconciliation.reconciliation_queue,
        name="reconciliation_queue",
    ),
    path(_CASE + "reconciliation/", reconciliation.reconciliation_case, name="reconciliation_case"),
    path(
        _CASE + "reconciliation/check/",
        reconciliation.reconciliation_check,
        name="reconciliation_check",
    ),
    path(
        _CASE + "reconciliation/reconcile/",
        reconciliation.reconciliation_reconcile_view,
        name="reconciliation_reconcile",
    ),
    path(
        _CASE + "reconciliation/reopen/",
        reconciliation.reconciliation_reopen_view,
        name="reconciliation_reopen",
    ),
    path(
        "staff/reconciliation/months/",
        reconciliation.reconciliation_months,
        name="reconciliation_months",
    ),
    path(
        "staff/reconciliation/months/<str:month>/close/",
        reconciliation.reconciliation_month_close,
        name="reconciliation_month_close",
    ),
    path(
        "staff/reconciliation/months/<str:month>/reopen/",
        reconciliation.reconciliation_month_reopen,
        name="reconciliation_month_reopen",
    ),
]
